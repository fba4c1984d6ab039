from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from service.api.auth import GUARDED_RESPONSES, RATE_LIMITED_RESPONSES, READ
from service.api.deps import DeskDep
from service.api.schemas import AskIn, AskOut, ErrorOut
from service.api.sse import sse_events
from service.observability.metrics import count_answer

router = APIRouter(prefix="/v1", tags=["questions"], dependencies=[READ],
                   responses={**GUARDED_RESPONSES, **RATE_LIMITED_RESPONSES})

STREAM_DOC: dict[str, Any] = {
    "description": "The answer; with `\"stream\": true`, server-sent events (`delta`, "
    "`citation`, then one `answer` holding this same JSON; `error` if it fails midway).",
    "content": {"text/event-stream": {}},
}
LLM_ERRORS: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorOut, "description": "mode llm: the LLM server failed or wrote nothing"},
    503: {"model": ErrorOut, "description": "mode llm: no LLM configured, or it is unreachable"},
    504: {"model": ErrorOut, "description": "mode llm: the LLM did not answer in time"},
}


@router.post("/ask", response_model=AskOut, responses={200: STREAM_DOC, **LLM_ERRORS})
def ask(body: AskIn, desk: DeskDep) -> AskOut | EventSourceResponse:
    if not body.stream:
        answer = desk.ask(body.question, top_k=body.top_k, document_ids=body.document_ids,
                          mode=body.mode, min_confidence=body.min_confidence,
                          scope=body.scope())
        count_answer(answer)
        return AskOut.of(answer)
    # Bad input and an unreachable LLM (mode llm) raise here, before the stream starts.
    events = desk.ask_stream(body.question, top_k=body.top_k, document_ids=body.document_ids,
                             mode=body.mode, min_confidence=body.min_confidence,
                             scope=body.scope())
    return EventSourceResponse(sse_events(events))
