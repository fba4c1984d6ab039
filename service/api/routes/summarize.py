from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from service.api.auth import GUARDED_RESPONSES, RATE_LIMITED_RESPONSES, READ
from service.api.deps import DeskDep
from service.api.routes.ask import LLM_ERRORS
from service.api.schemas import SummarizeIn, SummaryOut
from service.api.sse import sse_events

router = APIRouter(prefix="/v1", tags=["summaries"], dependencies=[READ],
                   responses={**GUARDED_RESPONSES, **RATE_LIMITED_RESPONSES})

STREAM_DOC = {
    "description": "The summary; with `\"stream\": true`, server-sent events (`delta`, "
    "`citation`, then one `summary` holding this same JSON; `error` if it fails midway).",
    "content": {"text/event-stream": {}},
}


@router.post("/summarize", response_model=SummaryOut, responses={200: STREAM_DOC, **LLM_ERRORS})
def summarize(body: SummarizeIn, desk: DeskDep) -> SummaryOut | EventSourceResponse:
    """A summary whose every sentence cites the span of the article it comes from: of one
    document, of several, of what the stored articles say about a question, or of the
    articles a date or source filter admits; with `"timeline": true`, their dated sentences
    in date order."""
    document_ids, question = body.targets()
    if not body.stream:
        return SummaryOut.of(desk.summarize(document_ids, question, body.max_sentences,
                                            body.max_words, body.mode, body.scope(),
                                            body.timeline))
    # Bad input and an unreachable LLM (mode llm) raise here, before the stream starts.
    events = desk.summarize_stream(document_ids, question, body.max_sentences, body.max_words,
                                   body.mode, body.scope(), body.timeline)
    return EventSourceResponse(sse_events(events))
