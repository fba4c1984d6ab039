"""API keys: with keys set, everything under /v1 and /metrics needs one, of the right scope.

Reads (questions, summaries, documents, metrics) need a ``read`` key; changing documents needs
a ``write`` key, which may also read. /healthz, the docs and the web page stay open. Each
router declares its scope (service/api/auth.py); a route under /v1 or /metrics that declares
none fails test_every_guarded_route_declares_its_scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.api.auth import KeyRing, Scope, key_id, presented_key
from service.config import Settings
from service.desk import Factdesk
from tests.api.keyed import API_KEYS, READ_KEY, WRITE_KEY, app_client, bearer
from tests.samples import SEED_ID, SEED_QUESTION, TEXT_ARTICLE, store_counts

pytestmark = pytest.mark.integration

READS = [
    ("GET", "/v1/documents", None),
    ("GET", f"/v1/documents/{SEED_ID}", None),
    ("POST", "/v1/ask", {"question": SEED_QUESTION}),
    ("GET", "/metrics", None),
]
WRITES = [
    ("POST", "/v1/documents", {"text": TEXT_ARTICLE, "id": "orchard"}),
    ("DELETE", f"/v1/documents/{SEED_ID}", None),
]


@pytest.fixture(scope="module")
def keyed(desk: Factdesk) -> Iterator[TestClient]:
    with app_client(desk, api_keys=API_KEYS) as client:
        yield client


def send(client: TestClient, method: str, path: str, body: Any,
         headers: dict[str, str] | None = None) -> Any:
    return client.request(method, path, json=body, headers=headers)


def assert_error(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("method", "path", "body"), [
    *READS, *WRITES,
    ("POST", "/v1/documents/upload", None),
    ("POST", "/v1/summarize", {"document_ids": [SEED_ID]}),
])
def test_no_key_is_401_with_a_bearer_challenge(
    keyed: TestClient, desk: Factdesk, method: str, path: str, body: Any
) -> None:
    before = store_counts(desk)
    response = send(keyed, method, path, body)
    error = assert_error(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in error["message"]
    assert store_counts(desk) == before


@pytest.mark.parametrize("headers", [
    bearer("not-a-key"), {"X-API-Key": "not-a-key"}, bearer(READ_KEY + "x"),
    bearer(READ_KEY[:-1]),
], ids=["bearer", "x-api-key", "longer", "shorter"])
def test_unknown_key_is_401(keyed: TestClient, headers: dict[str, str]) -> None:
    response = keyed.get("/v1/documents", headers=headers)
    assert_error(response, 401, "invalid_api_key")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_key_in_another_scheme_is_not_taken(keyed: TestClient) -> None:
    response = keyed.get("/v1/documents", headers={"Authorization": f"Basic {READ_KEY}"})
    assert_error(response, 401, "missing_api_key")


@pytest.mark.parametrize("key", [READ_KEY, WRITE_KEY], ids=["read-key", "write-key"])
@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_read_and_write_keys_may_read(
    keyed: TestClient, key: str, header: str, method: str, path: str, body: Any
) -> None:
    headers = bearer(key) if header == "bearer" else {"X-API-Key": key}
    response = send(keyed, method, path, body, headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_read_key_may_not_write(
    keyed: TestClient, desk: Factdesk, method: str, path: str, body: Any
) -> None:
    before = store_counts(desk)
    error = assert_error(send(keyed, method, path, body, bearer(READ_KEY)), 403,
                         "forbidden_scope")
    assert "write" in error["message"]
    assert store_counts(desk) == before
    assert desk.get(SEED_ID).id == SEED_ID


def test_read_key_may_not_upload(keyed: TestClient, desk: Factdesk) -> None:
    before = store_counts(desk)
    response = keyed.post("/v1/documents/upload", headers={"X-API-Key": READ_KEY},
                          files={"file": ("orchard.txt", TEXT_ARTICLE.encode(), "text/plain")})
    assert_error(response, 403, "forbidden_scope")
    assert store_counts(desk) == before


def test_write_key_adds_and_deletes(keyed: TestClient, desk: Factdesk) -> None:
    before = store_counts(desk)
    added = keyed.post("/v1/documents", json={"text": TEXT_ARTICLE, "id": "orchard"},
                       headers=bearer(WRITE_KEY))
    assert added.status_code == 200, added.text
    assert added.json()["status"] == "created"
    assert store_counts(desk).documents == before.documents + 1
    deleted = keyed.delete("/v1/documents/orchard", headers={"X-API-Key": WRITE_KEY})
    assert deleted.status_code == 200
    assert store_counts(desk) == before


@pytest.mark.parametrize("path", ["/healthz", "/docs", "/openapi.json"])
def test_health_and_docs_stay_open(keyed: TestClient, path: str) -> None:
    assert keyed.get(path).status_code == 200


def test_web_page_is_not_guarded(keyed: TestClient) -> None:
    # The page asks for a key itself and sends it with its API calls.
    assert keyed.get("/").status_code not in (401, 403)


def test_without_keys_the_api_is_open(client: TestClient) -> None:
    assert client.get("/v1/documents").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.post("/v1/ask", json={"question": SEED_QUESTION}).status_code == 200


def test_an_unknown_route_is_404_with_or_without_a_key(keyed: TestClient) -> None:
    assert_error(keyed.get("/v1/no-such-route"), 404, "not_found")
    assert_error(keyed.get("/v1/no-such-route", headers=bearer(READ_KEY)), 404, "not_found")


def test_openapi_declares_both_ways_to_send_a_key(keyed: TestClient) -> None:
    schema = keyed.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"]["in"] == "header"
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key"
    paths = schema["paths"]
    ask = paths["/v1/ask"]["post"]
    assert ask["security"] == [{"bearerAuth": ["read"]}, {"apiKeyHeader": ["read"]}]
    assert {"401", "403", "429"} <= set(ask["responses"])
    assert paths["/v1/documents"]["post"]["security"] == [
        {"bearerAuth": ["write"]}, {"apiKeyHeader": ["write"]}]
    assert "security" not in paths["/healthz"]["get"]


OPEN_ROUTES = {"/healthz", "/", "/static/{name}", "/docs", "/docs/oauth2-redirect", "/redoc",
               "/openapi.json"}


def test_every_guarded_route_declares_its_scope(keyed: TestClient) -> None:
    """Every route is open by name, or declares read or write in its Security dependency:
    one added to /v1 without a declaration fails here; writes to documents need write."""
    import fastapi.routing
    from fastapi.routing import APIRoute

    schema = keyed.get("/openapi.json").json()["paths"]
    routes = keyed.app.router.routes  # type: ignore[attr-defined]
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # routers kept nested
    checked = 0
    for route in flatten(routes) if flatten else routes:
        path = getattr(route, "path", "")
        if path in OPEN_ROUTES:
            continue
        original = getattr(route, "original_route", route)
        assert isinstance(original, APIRoute), f"{path}: not a route that declares a scope"
        for method in original.methods:
            operation = schema.get(path.replace(":path}", "}"), {}).get(method.lower())
            assert operation is not None, f"{method} {path} is not in the OpenAPI schema"
            scopes = {tuple(s) for r in operation.get("security", []) for s in r.values()}
            assert scopes, f"{method} {path} declares no scope"
            needed = set().union(*scopes)
            writes = method in {"POST", "PUT", "PATCH", "DELETE"} and path.startswith(
                "/v1/documents")
            assert needed == ({"write"} if writes else {"read"}), (method, path, needed)
            checked += 1
    assert checked >= 9


# ---- the rules and the key ring, without HTTP ------------------------------------------------


def test_presented_key_prefers_bearer() -> None:
    assert presented_key({"authorization": "Bearer  abc "}) == "abc"
    assert presented_key({"authorization": "bearer abc", "x-api-key": "def"}) == "abc"
    assert presented_key({"authorization": "Basic abc", "x-api-key": "def"}) == "def"
    assert presented_key({"authorization": "Bearer ", "x-api-key": " "}) is None
    assert presented_key({}) is None


def test_key_ring_identifies_keys_by_digest() -> None:
    ring = KeyRing(Settings(api_keys=API_KEYS).api_key_entries())
    read, write = ring.identify(READ_KEY), ring.identify(WRITE_KEY)
    assert read is not None and read.scope is Scope.READ
    assert write is not None and write.scope is Scope.WRITE
    assert ring.identify(READ_KEY.upper()) is None
    assert ring.identify("") is None
    assert read.allows(Scope.READ) and not read.allows(Scope.WRITE)
    assert write.allows(Scope.READ) and write.allows(Scope.WRITE)
    assert read.id == key_id(READ_KEY) and READ_KEY not in read.id
    assert not KeyRing([]).enabled


@pytest.mark.parametrize(("spec", "expected"), [
    ("a1:read", [("a1", "read")]),
    ("a1:write, b2:READ ,", [("a1", "write"), ("b2", "read")]),
    ("a1:all,b2:read+write", [("a1", "write"), ("b2", "write")]),
    ("with:colon:read", [("with:colon", "read")]),
    ("a1:read,a1:read", [("a1", "read")]),
])
def test_api_key_entries(spec: str, expected: list[tuple[str, str]]) -> None:
    assert Settings(api_keys=spec).api_key_entries() == expected


@pytest.mark.parametrize("spec", [
    "s3cret-key-1", "s3cret-key-1:admin", ":read", "s3cret key-1:read",
    "s3cret-key-1:read,s3cret-key-1:write",
], ids=["no-scope", "unknown-scope", "no-key", "space-in-key", "two-scopes"])
def test_bad_api_keys_are_refused_without_showing_them(spec: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(api_keys=spec)
    message = str(raised.value)
    assert "FACTDESK_API_KEYS entry" in message
    assert "s3cret" not in message
    assert "s3cret" not in repr(Settings(api_keys="s3cret-key-1:read"))
