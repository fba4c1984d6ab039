"""LLM-written summaries, map-reduce over chunks, checked sentence by sentence like answers.

Passages that fit one prompt (``FACTDESK_LLM_MAX_PASSAGES`` chunks) are summarized in one
streamed call. Longer inputs are mapped: each group of chunks is summarized on its own, then
one streamed call combines the partial summaries. Whatever the route, every sentence of the
final text is checked against the source chunks (service/verify/citations.py) and cites the
span that supports it; in the combined text, markers name partial summaries rather than
passages, so each sentence is checked against every source chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.config import Settings
from service.domain import AnswerSentence, Passage, PromptRef
from service.errors import LLMEmpty, NoSupportedSentence
from service.llm.client import ChatStream, LLMClient
from service.llm.prompts import get_prompt
from service.verify.citations import DraftSentence, Embedder, locate_support, split_draft

MAP_MAX_TOKENS = 200  # a partial summary: a few sentences


def limit_text(max_sentences: int | None, max_words: int | None) -> str:
    parts = []
    if max_sentences is not None:
        parts.append(f"{max_sentences} sentence" + ("s" if max_sentences != 1 else ""))
    if max_words is not None:
        parts.append(f"{max_words} words")
    return " and ".join(parts) or "3 sentences"


def task_text(titles: Sequence[str], question: str | None) -> str:
    if question is not None:
        return f"Summarize what the passages say about: {question}"
    if len(titles) == 1:
        return f'Summarize the article "{titles[0]}".'
    return "Summarize what these articles report, each article's main point once."


def number(passages: Sequence[Passage]) -> str:
    return "\n\n".join(
        f"[{n}] {p.heading}\n{' '.join(p.chunk.text.split())}"
        for n, p in enumerate(passages, 1)
    )


class SummaryDraft:
    """The streamed final call, and what its markers refer to."""

    def __init__(self, prompt: PromptRef, stream: ChatStream,
                 numbered: Sequence[Passage] | None) -> None:
        self.prompt = prompt
        self.stream = stream
        self.numbered = numbered  # None: markers name partial summaries, not passages


def open_summary_stream(
    llm: LLMClient,
    settings: Settings,
    passages: Sequence[Passage],
    titles: Sequence[str],
    question: str | None,
    limit: str,
) -> SummaryDraft:
    """Map the passages to partial summaries when they do not fit one prompt, then open the
    streamed final call. Raises a typed LLM error when the server cannot be asked."""
    task = task_text(titles, question)
    size = settings.llm_max_passages
    summarize = get_prompt(settings.prompts_dir, "summarize")
    if len(passages) <= size:
        messages = summarize.messages(passages=number(passages), task=task, limit=limit)
        return SummaryDraft(summarize.ref, llm.stream_chat(messages), passages)
    partials = []
    for first in range(0, len(passages), size):
        group = passages[first:first + size]
        messages = summarize.messages(passages=number(group), task=task, limit="3 sentences")
        partial = " ".join(s.text for s in split_draft(
            llm.complete(messages, max_tokens=min(MAP_MAX_TOKENS, settings.llm_max_tokens))))
        if partial:
            partials.append(partial)
    if not partials:
        raise LLMEmpty("the LLM wrote no partial summary")
    reduce = get_prompt(settings.prompts_dir, "summarize_reduce")
    listed = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(partials, 1))
    messages = reduce.messages(passages=listed, task=task, limit=limit)
    return SummaryDraft(reduce.ref, llm.stream_chat(messages), None)


def verify_summary(
    draft: str,
    numbered: Sequence[Passage] | None,
    passages: Sequence[Passage],
    texts: dict[str, str],
    embedder: Embedder,
    settings: Settings,
    max_sentences: int | None,
    max_words: int | None,
) -> list[AnswerSentence]:
    """The draft's sentences within the limits, each with the span that supports it, or
    flagged (or dropped, per ``FACTDESK_LLM_UNSUPPORTED``) when none does."""
    sentences = split_draft(draft)
    if not sentences:
        raise LLMEmpty("the LLM wrote no sentence")
    if numbered is None:
        sentences = [DraftSentence(s.text) for s in sentences]
        numbered = passages
    supports = locate_support(sentences, numbered, texts, embedder)
    kept: list[AnswerSentence] = []
    words = 0
    for sentence, support in zip(sentences, supports):
        if max_sentences is not None and len(kept) >= max_sentences:
            break
        length = len(sentence.text.split())
        if max_words is not None and kept and words + length > max_words:
            break
        if support is not None and support.supported:
            kept.append(AnswerSentence(sentence.text, (support.citation,), True))
        elif settings.llm_unsupported == "flag":
            kept.append(AnswerSentence(sentence.text, (), False))
        else:
            continue
        words += length
    if not any(s.supported for s in kept):
        raise NoSupportedSentence("no sentence of the LLM's summary is supported by the articles")
    return kept
