"""API keys and their scopes: who may read and who may change the stored articles.

``FACTDESK_API_KEYS`` holds comma-separated ``key:scope`` entries. A ``read`` key may ask
questions and read documents and metrics; a ``write`` key may also add and delete documents
(``all`` and ``read+write`` are other names for ``write``). With no keys set the API is open.

Each router declares the scope its routes need, the FastAPI way: a ``Security`` dependency
(``READ`` or ``WRITE`` below) on the router or the route, which also declares the two ways to
send a key in the OpenAPI schema (``bearerAuth``, ``apiKeyHeader``) and the scope each
operation needs. A route that declares none is open: ``/healthz``, the docs and the web page.
tests/api/test_auth.py fails when a route under ``/v1`` or ``/metrics`` declares none.

A key comes as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. Keys are compared in
constant time, as SHA-256 digests, and never logged: a key is named by ``key_id``, a short hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes


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


KEY_ID = "factdesk.key_id"  # request scope entry: the id (a hash) of the key it came with

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth",
    description="An API key from FACTDESK_API_KEYS, needed when the server has keys set: "
    "`read` to ask and read, `write` to change documents.")
header_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKeyHeader",
                             description="The same key, in a header of its own.")


class AccessDenied(Exception):
    """A request without the key its route needs: 401 or 403 (service/api/errors.py)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def _access(security_scopes: SecurityScopes, request: Request,
            bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
            header: str | None = Depends(header_scheme)) -> ApiKey | None:
    """The key of a request to a route that needs ``security_scopes`` (None: no keys set)."""
    keys: KeyRing = request.app.state.keys
    if not keys.enabled:
        return None
    presented = bearer.credentials.strip() if bearer and bearer.credentials.strip() else None
    presented = presented or (header.strip() if header and header.strip() else None)
    if presented is None:
        raise AccessDenied(401, "missing_api_key", "this server needs an API key: send "
                           "'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
                           {"WWW-Authenticate": "Bearer"})
    key = keys.identify(presented)
    if key is None:
        raise AccessDenied(401, "invalid_api_key", "the API key is not one this server knows",
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    request.scope[KEY_ID] = key.id
    for needed in map(Scope, security_scopes.scopes):
        if not key.allows(needed):
            raise AccessDenied(403, "forbidden_scope", f"this request needs a '{needed.value}' "
                               f"key; this key is '{key.scope.value}'")
    return key


READ = Security(_access, scopes=[Scope.READ.value])
WRITE = Security(_access, scopes=[Scope.WRITE.value])

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
# The answers a guarded route may give before it runs, for its OpenAPI ``responses``.
GUARDED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown one (`missing_api_key`, "
          "`invalid_api_key`)", "content": _ERROR},
    403: {"description": "The key lacks the scope (`forbidden_scope`)", "content": _ERROR},
}
RATE_LIMITED_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many requests for this key (`rate_limited`); `Retry-After` "
          "says how many seconds to wait", "content": _ERROR},
}


def is_api_path(path: str) -> bool:
    """Under /v1: what the rate limit counts (not /metrics scrapes, not the web page)."""
    return path == "/v1" or path.startswith("/v1/")
