"""API keys and their scopes: who may read and who may change the stored articles.

``FACTDESK_API_KEYS`` holds comma-separated ``key:scope`` entries. A ``read`` key may ask
questions and read documents and metrics; a ``write`` key may also add and delete documents
(``all`` and ``read+write`` are other names for ``write``). With no keys set the API is open.

What a request needs follows from its method and path alone, so a route added later is
covered without declaring anything:

- ``/healthz``, the docs (``/docs``, ``/openapi.json``) and everything outside ``/v1`` (the
  web page and its files) are open;
- ``POST``, ``PUT``, ``PATCH`` and ``DELETE`` under ``/v1/documents`` need ``write``;
- everything else under ``/v1`` (questions, summaries, reading documents) and ``/metrics``
  needs ``read``.

A key comes as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. Keys are compared in
constant time, as SHA-256 digests, and never logged: a key is named by ``key_id``, a short hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fastapi import FastAPI

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = "bearerAuth"
API_KEY_HEADER = "apiKeyHeader"


class Scope(str, Enum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class ApiKey:
    id: str  # names the key in logs and rate limits; never the key itself
    scope: Scope
    digest: bytes

    def allows(self, needed: Scope) -> bool:
        return self.scope is Scope.WRITE or needed is Scope.READ


def key_id(key: str) -> str:
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:10]


class KeyRing:
    """The configured keys; ``identify`` finds the one presented, if any."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self.keys = [ApiKey(key_id(key), Scope(scope), hashlib.sha256(key.encode()).digest())
                     for key, scope in entries]

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def identify(self, presented: str) -> ApiKey | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for key in self.keys:  # every key is compared: the time taken says nothing of which
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key of ``Authorization: Bearer KEY``, else of ``X-API-Key``; None when neither."""
    scheme, _, credentials = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


def required_scope(method: str, path: str) -> Scope | None:
    """The scope a request needs, or None for an open one (see the module's rules)."""
    path = path.rstrip("/") or "/"
    if path == "/metrics":
        return Scope.READ
    if not is_api_path(path):
        return None
    if method.upper() in WRITE_METHODS and (path == "/v1/documents"
                                            or path.startswith("/v1/documents/")):
        return Scope.WRITE
    return Scope.READ


def document_security(app: FastAPI) -> None:
    """Declare the two ways to send a key in the OpenAPI schema, on every operation that
    needs one, with the 401/403/429 answers it may get."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # FastAPI builds the schema once and keeps it there
            app.openapi_schema = _with_security(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_security(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("securitySchemes", {}).update({
        BEARER: {"type": "http", "scheme": "bearer",
                 "description": "An API key from FACTDESK_API_KEYS, needed when the server "
                 "has keys set: `read` to ask and read, `write` to change documents."},
        API_KEY_HEADER: {"type": "apiKey", "in": "header", "name": "X-API-Key",
                         "description": "The same key, in a header of its own."},
    })
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    answers = {
        "401": {"description": "No API key, or an unknown one (`missing_api_key`, "
                "`invalid_api_key`)", "content": error},
        "403": {"description": "The key lacks the scope (`forbidden_scope`)", "content": error},
        "429": {"description": "Too many requests for this key (`rate_limited`); "
                "`Retry-After` says how many seconds to wait", "content": error},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            scope = required_scope(method, path)
            if scope is None or not isinstance(operation, dict):
                continue
            operation["security"] = [{BEARER: []}, {API_KEY_HEADER: []}]
            needs = f"Needs a `{scope.value}` key when API keys are set."
            operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()
            responses = operation.setdefault("responses", {})
            for status, answer in answers.items():
                if status != "429" or is_api_path(path):
                    responses.setdefault(status, answer)
    return schema


def is_api_path(path: str) -> bool:
    """Under /v1: what the rate limit counts (not /metrics scrapes, not the web page)."""
    return path == "/v1" or path.startswith("/v1/")
