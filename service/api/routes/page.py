"""The web page: ``/`` and its few static files, read from the installed ``service.web`` package."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request, Response

router = APIRouter(include_in_schema=False)

# Only these files are served: no path from the request ever reaches the file system.
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
PAGE = "index.html"

# The page runs its own script only: no inline script, no other origin (no CDN), no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


# Read once per process: the files ship inside the installed package and do not change.
@lru_cache(maxsize=len(STATIC_FILES) + 1)
def _read(name: str) -> tuple[bytes, str]:
    content = (files("service.web") / "static" / name).read_bytes()
    return content, f'"{hashlib.sha256(content).hexdigest()[:20]}"'


def _serve(name: str, media_type: str, request: Request) -> Response:
    content, etag = _read(name)
    # no-cache: the browser revalidates (a 304 when unchanged), so a new release shows at once.
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


@router.get("/")
def page(request: Request) -> Response:
    return _serve(PAGE, "text/html; charset=utf-8", request)


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return _serve(name, media_type, request)
