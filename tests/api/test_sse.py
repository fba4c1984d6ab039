"""The SSE translation of the desk's answer events (no server, no model)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anyio

from service.api.sse import sse_events
from service.domain import Answer, AnswerDelta, AskEvent, Citation, CitationFound
from service.errors import LLMTimeout


def collect(events: Iterator[AskEvent], take: int | None = None) -> list[dict[str, str]]:
    async def run() -> list[dict[str, str]]:
        stream = sse_events(events)
        out = []
        async for item in stream:
            out.append(item)
            if take is not None and len(out) == take:
                await stream.aclose()  # what a disconnecting client causes
                break
        return out

    return anyio.run(run)


def test_events_in_order_with_json_data() -> None:
    citation = Citation("d", "T", "d:0", 0, 5, "Hello")
    answer = Answer("Hello", False, 0.9, [citation], mode="llm")
    sent = collect(iter([AnswerDelta("Hel"), AnswerDelta("lo"), CitationFound(0, citation),
                         answer]))
    assert [e["event"] for e in sent] == ["delta", "delta", "citation", "answer"]
    assert json.loads(sent[0]["data"]) == {"text": "Hel"}
    assert json.loads(sent[2]["data"])["citation"]["quote"] == "Hello"
    assert json.loads(sent[3]["data"])["mode"] == "llm"


def test_a_client_that_leaves_closes_the_events() -> None:
    closed = []

    def events() -> Iterator[AskEvent]:
        try:
            yield AnswerDelta("a")
            yield AnswerDelta("b")
        finally:
            closed.append(True)

    assert len(collect(events(), take=1)) == 1
    assert closed == [True]


def test_a_failure_midway_is_one_error_event() -> None:
    def events() -> Iterator[AskEvent]:
        yield AnswerDelta("a")
        raise LLMTimeout("too slow")

    sent = collect(events())
    assert [e["event"] for e in sent] == ["delta", "error"]
    assert json.loads(sent[1]["data"]) == {"error": {"code": "llm_timeout", "message": "too slow"}}
