"""Server-sent events for ``POST /v1/ask`` with ``"stream": true``.

Events, in order: ``delta`` (``{"text"}``, the model's unverified text as it is written),
``citation`` (``{"sentence", "citation"}``, each verified span of the final answer), then one
``answer`` (the same JSON as the non-streaming response; ``summary`` for ``POST
/v1/summarize``). A failure after the response has
started is one ``error`` event (``{"error": {"code", "message"}}``) that ends the stream.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator

import anyio.to_thread

from service.api.errors import error_body
from service.api.schemas import AskOut, CitationOut, SummaryOut
from service.domain import Answer, AnswerDelta, AskEvent, CitationFound, Summary, SummaryEvent
from service.errors import FactdeskError, InvariantBroken
from service.observability.metrics import count_answer

log = logging.getLogger("factdesk")


def encode(event: AskEvent | SummaryEvent) -> dict[str, str]:
    if isinstance(event, AnswerDelta):
        return {"event": "delta", "data": json.dumps({"text": event.text})}
    if isinstance(event, CitationFound):
        citation = CitationOut.of(event.citation).model_dump()
        return {"event": "citation",
                "data": json.dumps({"sentence": event.sentence, "citation": citation})}
    if isinstance(event, Summary):
        return {"event": "summary", "data": SummaryOut.of(event).model_dump_json()}
    if not isinstance(event, Answer):
        raise InvariantBroken(f"no server-sent event for a {type(event).__name__}")
    return {"event": "answer", "data": AskOut.of(event).model_dump_json()}


async def sse_events(
    events: Iterator[AskEvent] | Iterator[SummaryEvent],
) -> AsyncIterator[dict[str, str]]:
    """Pull the desk's (blocking) events in a worker thread, one at a time.

    When the client goes away the response task is cancelled; the worker thread finishes its
    current step first (anyio does not abandon it), and then ``finally`` closes the event
    iterator, which closes the request to the LLM server: no generation is left running.
    """
    try:
        while True:
            try:
                event = await anyio.to_thread.run_sync(next, events, None)
            except FactdeskError as error:
                yield {"event": "error", "data": json.dumps(error_body(error.code, error.message))}
                return
            except Exception:
                log.exception("unexpected error while streaming an answer")
                body = error_body("internal_error", "internal error; see the server log")
                yield {"event": "error", "data": json.dumps(body)}
                return
            if event is None:
                return
            if isinstance(event, Answer):
                count_answer(event)
            yield encode(event)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
