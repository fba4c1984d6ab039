"""GET /metrics: Prometheus text whose counts move with what the service did.

The LLM counts come from real HTTP calls: to a small fake OpenAI-compatible server
(tests/llm/servers.py) that reports token usage or fails on demand, and to a closed port.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.desk import Factdesk
from service.llm.client import LLMClient
from tests.api.keyed import API_KEYS, READ_KEY, app_client, bearer
from tests.api.sse import parse_sse
from tests.llm.conftest import llm_settings
from tests.llm.servers import FakeLLMServer, Reply, error_reply
from tests.samples import (
    MARKDOWN_ARTICLE,
    SEED_ID,
    SEED_QUESTION,
    UNANSWERABLE_QUESTION,
    store_counts,
)

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def fresh(desk: Factdesk) -> Iterator[TestClient]:
    """A new app (and so new metrics) over the module's desk."""
    with app_client(desk) as client:
        yield client


def test_requests_are_counted_by_route_template(fresh: TestClient) -> None:
    assert fresh.get(f"/v1/documents/{SEED_ID}").status_code == 200
    assert fresh.get("/v1/documents/no-such-doc").status_code == 404
    assert fresh.get("/v1/nothing/here").status_code == 404
    samples = scrape(fresh)
    route = "/v1/documents/{document_id:path}"
    assert value(samples, "factdesk_http_requests_total", method="GET", route=route,
                 status="200") == 1
    assert value(samples, "factdesk_http_requests_total", method="GET", route=route,
                 status="404") == 1
    assert value(samples, "factdesk_http_requests_total", method="GET", route="unmatched",
                 status="404") == 1
    assert value(samples, "factdesk_http_request_duration_seconds_count", method="GET",
                 route=route, status="200") == 1
    assert value(samples, "factdesk_http_request_duration_seconds_sum", method="GET",
                 route=route, status="200") > 0
    assert not any(SEED_ID in dict(labels).get("route", "") for _, labels in samples)


def test_asks_and_abstentions(fresh: TestClient) -> None:
    before = scrape(fresh)
    assert fresh.post("/v1/ask", json={"question": SEED_QUESTION}).json()["abstained"] is False
    abstained = fresh.post("/v1/ask", json={"question": UNANSWERABLE_QUESTION}).json()
    assert abstained["abstained"] is True
    with fresh.stream("POST", "/v1/ask", json={"question": SEED_QUESTION,
                                               "stream": True}) as response:
        assert [name for name, _ in parse_sse(response.iter_lines())] == ["answer"]
    after = scrape(fresh)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("factdesk_answers_total", mode="offline", fallback_reason="none") == 3
    assert moved("factdesk_abstentions_total") == 1
    assert moved("factdesk_http_requests_total", method="POST", route="/v1/ask",
                 status="200") == 3
    assert moved("factdesk_llm_requests_total") == 0


def test_ingests_and_store_gauges(fresh: TestClient, desk: Factdesk) -> None:
    before = scrape(fresh)
    added = fresh.post("/v1/documents", json={"text": MARKDOWN_ARTICLE, "id": "bridge"}).json()
    again = fresh.post("/v1/documents", json={"text": MARKDOWN_ARTICLE, "id": "bridge"}).json()
    assert (added["status"], again["status"]) == ("created", "unchanged")
    after = scrape(fresh)
    counts = store_counts(desk)
    try:
        assert value(after, "factdesk_ingests_total", status="created") == 1
        assert value(after, "factdesk_ingests_total", status="unchanged") == 1
        assert value(after, "factdesk_ingests_total", status="updated") == 0
        assert value(after, "factdesk_ingested_chunks_total") == added["chunks"]
        assert value(after, "factdesk_documents") == counts.documents
        assert value(after, "factdesk_documents") == value(before, "factdesk_documents") + 1
        assert value(after, "factdesk_chunks") == counts.lexical
    finally:
        fresh.delete("/v1/documents/bridge")
    assert value(scrape(fresh), "factdesk_documents") == counts.documents - 1


def test_each_app_counts_its_own(desk: Factdesk) -> None:
    with app_client(desk) as first, app_client(desk) as second:
        first.post("/v1/ask", json={"question": SEED_QUESTION})
        assert value(scrape(first), "factdesk_answers_total", mode="offline",
                     fallback_reason="none") == 1
        assert value(scrape(second), "factdesk_answers_total", mode="offline",
                     fallback_reason="none") == 0


def test_metrics_need_a_read_key_when_keys_are_set(desk: Factdesk) -> None:
    with app_client(desk, api_keys=API_KEYS) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/v1/documents").status_code == 401
        samples = scrape(client, **bearer(READ_KEY))
    assert value(samples, "factdesk_http_requests_total", method="GET", route="/metrics",
                 status="401") == 1
    assert value(samples, "factdesk_http_requests_total", method="GET",
                 route="/v1/documents", status="401") == 1


# ---- LLM calls ---------------------------------------------------------------------------------


def usage_reply(text: str, prompt_tokens: int, completion_tokens: int) -> Reply:
    """A streamed completion ending, as OpenAI's does with include_usage, in a usage chunk."""
    def event(chunk: dict[str, object]) -> str:
        return f"data: {json.dumps(chunk)}\n\n"

    head = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake"}
    body = event({**head, "choices": [{"index": 0, "delta": {"content": text},
                                       "finish_reason": None}]})
    body += event({**head, "choices": [], "usage": {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens}})
    body += "data: [DONE]\n\n"
    return 200, {"content-type": "text/event-stream"}, body.encode()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    yield server
    server.stop()


def point_llm(desk: Factdesk, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setattr(desk, "llm", LLMClient(llm_settings(desk.settings.data_dir, url,
                                                            llm_timeout=20.0)))


def test_llm_calls_and_tokens(fresh: TestClient, desk: Factdesk, fake_llm: FakeLLMServer,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    point_llm(desk, monkeypatch, fake_llm.url)
    fake_llm.answer_with(usage_reply(
        "North Korea has suffered 4,700 casualties, including 600 deaths [1].", 812, 17))
    answer = fresh.post("/v1/ask", json={"question": SEED_QUESTION, "mode": "llm"}).json()
    assert fake_llm.hits == 1
    samples = scrape(fresh)
    assert value(samples, "factdesk_llm_requests_total") == 1
    assert value(samples, "factdesk_llm_tokens_total", kind="prompt") == 812
    assert value(samples, "factdesk_llm_tokens_total", kind="completion") == 17
    assert value(samples, "factdesk_llm_request_duration_seconds_count") == 1
    assert sum(v for (name, _), v in samples.items() if name == "factdesk_llm_errors_total") == 0
    assert value(samples, "factdesk_answers_total", mode=answer["mode"],
                 fallback_reason=answer["fallback_reason"] or "none") == 1


def test_llm_errors_and_fallbacks(fresh: TestClient, desk: Factdesk, fake_llm: FakeLLMServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    point_llm(desk, monkeypatch, fake_llm.url)
    fake_llm.answer_with(error_reply(500))
    answer = fresh.post("/v1/ask", json={"question": SEED_QUESTION}).json()
    assert (answer["mode"], answer["fallback_reason"]) == ("offline", "llm_error")
    assert fresh.post("/v1/ask", json={"question": SEED_QUESTION,
                                       "mode": "llm"}).status_code == 502
    point_llm(desk, monkeypatch, "http://127.0.0.1:9/v1")  # nothing listens on port 9
    answer = fresh.post("/v1/ask", json={"question": SEED_QUESTION}).json()
    assert answer["fallback_reason"] == "llm_unavailable"
    samples = scrape(fresh)
    assert value(samples, "factdesk_llm_requests_total") == 3
    assert value(samples, "factdesk_llm_errors_total", code="llm_error") == 2
    assert value(samples, "factdesk_llm_errors_total", code="llm_unavailable") == 1
    assert value(samples, "factdesk_answers_total", mode="offline",
                 fallback_reason="llm_error") == 1
    assert value(samples, "factdesk_answers_total", mode="offline",
                 fallback_reason="llm_unavailable") == 1
    assert value(samples, "factdesk_http_requests_total", method="POST", route="/v1/ask",
                 status="502") == 1
