"""The reply protocol that answers and summaries share: stream an LLM draft, verify its
citations, fall back to the offline reply; and the checks every reply passes before it
leaves."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from service.domain import Answer, AnswerDelta, AnswerMode, CitationFound, Summary
from service.errors import InvalidInput, InvariantBroken, LLMFailure, NoSupportedSentence
from service.llm.client import ChatStream
from service.verify.citations import verify_citation

Reply = TypeVar("Reply", Answer, Summary)


def verified_events(
    stream: ChatStream,
    verify: Callable[[str], Reply],
    fallback: Callable[[str], Reply],
    texts: dict[str, str],
    mode: AnswerMode,
) -> Iterator[AnswerDelta | CitationFound | Reply]:
    """The LLM's deltas as it writes, then the verified reply's citations, then the reply.

    ``verify`` turns the whole draft into an answer or summary with checked spans. When it finds
    no supported sentence, or (mode ``auto``) the LLM fails midway, ``fallback(reason)`` gives
    the offline reply instead; in mode ``llm`` an LLM failure is raised."""
    parts: list[str] = []
    try:
        with stream:
            for delta in stream:
                parts.append(delta)
                yield AnswerDelta(delta)
        reply = verify("".join(parts))
    except NoSupportedSentence as failure:
        reply = fallback(failure.code)
    except LLMFailure as failure:
        if mode is AnswerMode.LLM:
            raise
        reply = fallback(failure.code)
    check_citations(reply, texts)
    for number, sentence in enumerate(reply.sentences):
        for citation in sentence.citations:
            yield CitationFound(number, citation)
    yield reply


def last_event(events: Iterable[object], kind: type[Reply]) -> Reply:
    """The final event of a stream, drained: the reply itself."""
    final = None
    for event in events:
        final = event
    if not isinstance(final, kind):
        raise InvariantBroken(f"the stream ended without its {kind.__name__}")
    return final


def check_citations(reply: Answer | Summary, texts: dict[str, str]) -> None:
    """Every citation must be the stored text at its offsets; anything else is a bug."""
    cited = reply.citations if isinstance(reply, Answer) else []
    for citation in [*cited, *(c for s in reply.sentences for c in s.citations)]:
        if not verify_citation(citation, texts[citation.document_id]):
            raise InvariantBroken(f"citation {citation} does not match the stored text")


def answer_mode(mode: AnswerMode | str) -> AnswerMode:
    try:
        return AnswerMode(mode)
    except ValueError:
        raise InvalidInput(f"mode must be offline, llm or auto; got {mode!r}") from None
