from fastapi import APIRouter, Response

from service.api.auth import GUARDED_RESPONSES, READ
from service.api.deps import DeskDep, MetricsDep
from service.observability.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"], dependencies=[READ], responses=GUARDED_RESPONSES)


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text format", "content": {CONTENT_TYPE: {}}}})
def prometheus_metrics(desk: DeskDep, metrics: MetricsDep) -> Response:
    """Request counts and latencies per route, ingests, answers, abstentions and LLM calls."""
    documents, chunks = desk.counts()
    return Response(metrics.exposition(documents, chunks), media_type=CONTENT_TYPE)
