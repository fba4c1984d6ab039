"""Prompt templates in prompts/: every file loads, names and versions, safe substitution."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from service.llm.prompts import PromptError, get_prompt, load_prompts, parse_prompt, prompt_versions

PROMPTS_DIR = Settings().prompts_dir


def test_the_shipped_prompts_load_with_names_and_versions() -> None:
    prompts = load_prompts(PROMPTS_DIR)
    assert {"answer", "summarize"} <= set(prompts)
    assert prompt_versions(PROMPTS_DIR)["answer"] == prompts["answer"].version
    answer = get_prompt(PROMPTS_DIR, "answer")
    assert "square brackets" in answer.system and "only" in answer.system  # cite as [n]; passages only
    assert "cannot answer" in answer.system


def test_article_text_is_substituted_verbatim() -> None:
    tricky = "Costs rose to $5 {million} ${question} [1]"
    messages = get_prompt(PROMPTS_DIR, "answer").messages(question="Why?", passages=tricky)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert tricky in messages[1]["content"] and "Why?" in messages[1]["content"]


def test_malformed_prompts_are_errors(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="header"):
        parse_prompt("[user]\nHi $question", tmp_path / "x.md")
    with pytest.raises(PromptError, match="name and a version"):
        parse_prompt("---\nname: x\n---\n[user]\nHi", tmp_path / "x.md")
    with pytest.raises(PromptError, match=r"\[user\]"):
        parse_prompt("---\nname: x\nversion: 1\n---\n[system]\nHi", tmp_path / "x.md")
    prompt = parse_prompt("---\nname: x\nversion: 2\n---\n[user]\nHi $question", tmp_path / "x.md")
    assert prompt.ref.version == "2" and prompt.system == ""
    with pytest.raises(PromptError, match="no value for"):
        prompt.messages(passages="p")
    with pytest.raises(PromptError, match="no prompt named"):
        get_prompt(PROMPTS_DIR, "no-such-prompt")
