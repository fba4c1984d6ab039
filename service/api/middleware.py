"""What every HTTP request passes through before a route, outermost first:

0. ``CORSMiddleware`` (Starlette's), when FACTDESK_CORS_ORIGINS is set: preflights are answered
   here, without a key.
1. ``RequestContext``: the request id (``X-Request-ID``, taken from the caller when sane),
   the app's metrics bound for the request, one access log line and the request metrics at the
   end, and headers that keep browsers from treating an answer as a page.
2. ``RateGuard``: the rate limit of requests under /v1, per API key (the key's id when a
   known one is sent, else the client's address). Whether a route needs a key, and which,
   its router declares (service/api/auth.py).
3. ``BodyLimit``: the request body's size, from ``Content-Length`` and again while it is read,
   so that a missing or false ``Content-Length`` does not get a larger body through.

They are plain ASGI middleware: they see a streamed answer through to its end, and they answer
413, 429 and 503 (rate limit store down, failing closed) before a route reads the body.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import fastapi.routing
from fastapi import FastAPI, HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.auth import KEY_ID, KeyRing, is_api_path, presented_key
from service.api.errors import error_response
from service.api.rate_limit import LimitStoreDown, RateLimiter
from service.config import Settings
from service.observability import metrics
from service.observability.logs import REQUEST_ID_HEADER, bind_request_id, request_id_from

log = logging.getLogger("factdesk")
access_log = logging.getLogger("factdesk.access")

UPLOAD_PATH = "/v1/documents/upload"
# An upload's body is its file plus the multipart framing and the form's other fields.
UPLOAD_FORM_ALLOWANCE = 64 * 1024


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Wire the three middlewares onto ``app`` (the last added runs first)."""
    app.add_middleware(
        BodyLimit, limit=settings.max_body_bytes,
        path_limits={UPLOAD_PATH: settings.max_upload_bytes + UPLOAD_FORM_ALLOWANCE})
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.redis_url,
                          settings.rate_limit_fail, f"factdesk:{settings.collection_prefix}")
    app.state.rate_limiter = limiter
    app.state.keys = keys = KeyRing(settings.api_key_entries())
    app.add_middleware(RateGuard, keys=keys, limiter=limiter)
    app.add_middleware(RequestContext, fastapi_app=app)
    origins = settings.cors_list("origins")
    if origins:  # outermost: a preflight is answered before the key check, and errors get CORS
        app.add_middleware(CORSMiddleware, allow_origins=origins,
                           allow_methods=settings.cors_list("methods"),
                           allow_headers=settings.cors_list("headers"),
                           expose_headers=[REQUEST_ID_HEADER, "Retry-After"], max_age=600)


def route_path(scope: Scope) -> str:
    """The path the routes see: without the prefix the app is served under (root_path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path


def route_templates(app: FastAPI) -> list[tuple[re.Pattern[str], str, frozenset[str] | None]]:
    """(regex, template, methods) of every route, in the router's order, included routers'
    routes with their prefixes."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # routers kept nested
    routes: list[Any] = list(flatten(app.router.routes) if flatten else app.router.routes)
    table = []
    for route in routes:
        template = getattr(route, "path", None)
        if not template:
            continue
        original = getattr(route, "original_route", route)
        pattern = template
        if isinstance(original, Mount):  # a mount takes its prefix and everything under it
            pattern = template.rstrip("/") + "/{path:path}"
        methods = getattr(original, "methods", None)
        table.append((compile_path(pattern)[0], template,
                      frozenset(methods) if methods else None))
    return table


async def send_error(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                     message: str, headers: Mapping[str, str] | None = None) -> None:
    response = error_response(status, code, message)
    response.headers.update(headers or {})
    await response(scope, receive, send)


class RequestContext:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._templates: list[tuple[re.Pattern[str], str, frozenset[str] | None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        api_path = route_path(scope)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if is_api_path(api_path):  # the API answers data, never a page to render
                    headers.setdefault("Content-Security-Policy",
                                       "default-src 'none'; frame-ancestors 'none'")
                responded = True
            await send(message)

        with metrics.bind(self.fastapi_app.state.metrics), bind_request_id(request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                log.exception("unexpected error")
                if not responded:  # the 500 carries the request id, like any answer
                    await send_error(scope, receive, send_with_headers, 500, "internal_error",
                                     "internal error; see the server log")
                raise
            finally:
                seconds = time.perf_counter() - started
                route = self.route_of(scope)
                metrics.count_request(scope["method"], route, status, seconds)
                self.log_access(scope, api_path, route, status, seconds)

    def route_of(self, scope: Scope) -> str:
        """The route's template (``/v1/documents/{document_id:path}``), never the raw path,
        so that the metrics' labels stay few; ``unmatched`` for an unknown path. Found by
        matching, as the router does, because requests refused before routing have a route
        too."""
        if self._templates is None:
            self._templates = route_templates(self.fastapi_app)
        path, method = route_path(scope), scope["method"]
        other_method = None
        for regex, template, methods in self._templates:
            if regex.match(path):
                if methods is None or method in methods:
                    return template
                other_method = other_method or template
        return other_method or "unmatched"

    @staticmethod
    def log_access(scope: Scope, path: str, route: str, status: int, seconds: float) -> None:
        fields: dict[str, Any] = {
            "method": scope["method"], "route": route, "path": path, "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        if scope.get(KEY_ID):
            fields["key_id"] = scope[KEY_ID]
        client = scope.get("client")
        if client:
            fields["client"] = client[0]
        level = logging.ERROR if status >= 500 else logging.INFO
        access_log.log(level, "%s %s %s", scope["method"], path, status, extra=fields)


class RateGuard:
    def __init__(self, app: ASGIApp, keys: KeyRing, limiter: RateLimiter) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(route_path(scope)):
            await self.app(scope, receive, send)
            return
        caller = f"client:{scope['client'][0]}" if scope.get("client") else "client:unknown"
        presented = presented_key(Headers(scope=scope)) if self.keys.enabled else None
        key = self.keys.identify(presented) if presented is not None else None
        if key is not None:
            scope[KEY_ID] = caller = key.id
        try:
            wait = self.limiter.take(caller)
        except LimitStoreDown:
            await send_error(scope, receive, send, 503, "rate_limit_unavailable",
                             "the rate limit store cannot be reached; retry shortly",
                             {"Retry-After": "5"})
            return
        if wait:
            await send_error(scope, receive, send, 429, "rate_limited",
                             f"too many requests; retry in {wait} s", {"Retry-After": str(wait)})
            return
        await self.app(scope, receive, send)


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int, path_limits: Mapping[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.path_limits = dict(path_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(route_path(scope), self.limit)
        message = f"the request body is larger than the limit of {limit} bytes"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await send_error(scope, receive, send, 413, "body_too_large", message)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    # Raised inside the route's body reading; service/api/errors.py answers it.
                    raise HTTPException(413, message)
            return event

        await self.app(scope, receive_within_limit, send)
