"""Fixtures for the LLM tests: one real llama.cpp server per session, and LLM settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings
from tests.llm.servers import FakeLLMServer, LlamaServer, model_file, require_llama_cpp
from tests.samples import SEEDS_DIR

# Small answers keep the suite's LLM time bounded (SmolLM2-135M writes 60-70 tokens/s here).
MAX_TOKENS = 96


def llm_settings(data_dir: Path, base_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir, "seeds_dir": SEEDS_DIR, "openai_base_url": base_url,
        "llm_model": "smollm2-135m-instruct", "llm_max_tokens": MAX_TOKENS,
        "llm_timeout": 120.0, "llm_max_retries": 0, "llm_max_passages": 4,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def llama_model() -> Path:
    require_llama_cpp()
    return model_file()


@pytest.fixture(scope="session")
def llama_server(llama_model: Path) -> Iterator[LlamaServer]:
    server = LlamaServer(llama_model)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    yield server
    server.stop()
