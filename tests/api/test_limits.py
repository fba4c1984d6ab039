"""Request limits: body and upload sizes (413), documents per question, and the per-key rate
limit (429 with Retry-After). A refused request leaves the store as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.rate_limit import RateLimiter
from service.desk import Factdesk
from tests.api.keyed import API_KEYS, READ_KEY, WRITE_KEY, app_client, bearer
from tests.samples import SEED_ID, SEED_QUESTION, TEXT_ARTICLE, long_article, store_counts

pytestmark = pytest.mark.integration

BODY_LIMIT = 4096
UPLOAD_LIMIT = 8192


def assert_error(response: Any, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    for word in words:
        assert word in body["error"]["message"]


@pytest.fixture(scope="module")
def limited(desk: Factdesk) -> Iterator[TestClient]:
    with app_client(desk, max_body_bytes=BODY_LIMIT, max_upload_bytes=UPLOAD_LIMIT) as client:
        yield client


@pytest.fixture(autouse=True)
def store_is_unchanged(desk: Factdesk) -> Iterator[None]:
    before = store_counts(desk)
    yield
    assert store_counts(desk) == before


def big_document() -> bytes:
    body = json.dumps({"text": long_article("tramway", 16), "id": "tramway"}).encode()
    assert len(body) > BODY_LIMIT
    return body


def test_body_over_the_limit_is_413(limited: TestClient, desk: Factdesk) -> None:
    response = limited.post("/v1/documents", content=big_document(),
                            headers={"content-type": "application/json"})
    assert_error(response, 413, "body_too_large", str(BODY_LIMIT))
    assert "tramway" not in {a.id for a in desk.list()}


def test_body_without_content_length_is_counted(limited: TestClient) -> None:
    body = big_document()

    def chunks() -> Iterator[bytes]:  # sent chunked: no Content-Length to check up front
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    response = limited.post("/v1/documents", content=chunks(),
                            headers={"content-type": "application/json"})
    assert_error(response, 413, "body_too_large", str(BODY_LIMIT))


def test_body_longer_than_its_content_length_is_counted(limited: TestClient) -> None:
    response = limited.post("/v1/documents", content=big_document(),
                            headers={"content-type": "application/json", "content-length": "100"})
    assert_error(response, 413, "body_too_large")


def test_body_within_the_limit_is_taken(limited: TestClient) -> None:
    answer = limited.post("/v1/ask", json={"question": SEED_QUESTION})
    assert answer.status_code == 200
    added = limited.post("/v1/documents", json={"text": TEXT_ARTICLE, "id": "orchard"})
    assert added.status_code == 200, added.text
    assert limited.delete("/v1/documents/orchard").status_code == 200


def test_upload_over_the_upload_limit_is_413(limited: TestClient) -> None:
    # Larger than the file limit, within the body's allowance for the form around it.
    content = b"Word after word fills the page. " * (UPLOAD_LIMIT // 32 + 10)
    response = limited.post("/v1/documents/upload",
                            files={"file": ("long.txt", content, "text/plain")})
    assert_error(response, 413, "upload_too_large", str(UPLOAD_LIMIT))


def test_upload_far_over_the_limit_is_refused_before_it_is_read(limited: TestClient) -> None:
    content = b"x" * (UPLOAD_LIMIT + 128 * 1024)
    response = limited.post("/v1/documents/upload",
                            files={"file": ("huge.txt", content, "text/plain")})
    assert_error(response, 413, "body_too_large")


def test_upload_within_the_limit_is_taken(limited: TestClient) -> None:
    response = limited.post("/v1/documents/upload", data={"id": "orchard"},
                            files={"file": ("orchard.txt", TEXT_ARTICLE.encode(), "text/plain")})
    assert response.status_code == 200, response.text
    assert limited.delete("/v1/documents/orchard").status_code == 200


def test_too_many_document_ids(
    limited: TestClient, desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A limit of the desk's, like the question's length and top_k (the default is 100).
    monkeypatch.setattr(desk.settings, "max_document_ids", 2)
    response = limited.post("/v1/ask", json={"question": SEED_QUESTION,
                                             "document_ids": [SEED_ID] * 3})
    assert_error(response, 422, "invalid_input", "document_ids", "3", "2")
    ok = limited.post("/v1/ask", json={"question": SEED_QUESTION,
                                       "document_ids": [SEED_ID] * 2})
    assert ok.status_code == 200


# ---- rate limit --------------------------------------------------------------------------------


@pytest.fixture
def rate_limited(desk: Factdesk) -> Iterator[TestClient]:
    # 2 a minute: slow enough that no request comes back during a test.
    with app_client(desk, api_keys=API_KEYS, rate_limit_per_minute=2) as client:
        yield client


def test_rate_limit_is_429_with_retry_after(rate_limited: TestClient) -> None:
    statuses = [rate_limited.get("/v1/documents", headers=bearer(READ_KEY)).status_code
                for _ in range(2)]
    assert statuses == [200, 200]
    refused = rate_limited.post("/v1/ask", json={"question": SEED_QUESTION},
                                headers=bearer(READ_KEY))
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_rate_limit_is_per_key(rate_limited: TestClient) -> None:
    for _ in range(2):
        rate_limited.get("/v1/documents", headers={"X-API-Key": READ_KEY})
    assert rate_limited.get("/v1/documents", headers=bearer(READ_KEY)).status_code == 429
    assert rate_limited.get("/v1/documents", headers=bearer(WRITE_KEY)).status_code == 200


def test_rate_limit_spares_health_and_metrics(rate_limited: TestClient) -> None:
    for _ in range(3):
        rate_limited.get("/v1/documents", headers=bearer(READ_KEY))
    for _ in range(3):
        assert rate_limited.get("/healthz").status_code == 200
        assert rate_limited.get("/metrics", headers=bearer(READ_KEY)).status_code == 200
    health = rate_limited.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["rate_limit"] == {"store": "memory", "reachable": True, "fail": "open",
                                    "error": None}


def test_without_keys_the_rate_limit_is_per_client(desk: Factdesk) -> None:
    with app_client(desk, rate_limit_per_minute=1) as client:
        assert client.get("/v1/documents").status_code == 200
        refused = client.get("/v1/documents")
        assert_error(refused, 429, "rate_limited")
        assert 50 <= int(refused.headers["retry-after"]) <= 60


def test_rate_limit_is_off_by_default(client: TestClient) -> None:
    assert {client.get("/v1/documents").status_code for _ in range(40)} == {200}
    assert client.get("/healthz").json()["rate_limit"] is None


def test_the_window_moves_with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most R in any 60 s: a request is allowed again once the oldest of the R is 60 s old.
    The limits library reads time.time(); the test moves it instead of waiting a minute."""
    now = [1_000_000.0]
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: now[0])
    monkeypatch.setattr("service.api.rate_limit.time.time", lambda: now[0])
    limiter = RateLimiter(per_minute=3)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    now[0] += 20
    assert limiter.take("a") == 40  # the first of the three leaves the window in 40 s
    assert limiter.take("b") == 0  # another caller has a window of its own
    now[0] += 41  # all three are over 60 s old
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == 60
