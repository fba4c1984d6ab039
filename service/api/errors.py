"""The one place where errors become HTTP responses: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.auth import AccessDenied
from service.errors import (
    DocumentNotFound,
    EmbeddingFailure,
    EmbeddingModelMismatch,
    EmbeddingTimeout,
    EmbeddingUnavailable,
    FactdeskError,
    InvalidInput,
    LLMFailure,
    LLMNotConfigured,
    LLMTimeout,
    LLMUnavailable,
    ModelFilesMissing,
    StoreEmpty,
    UploadTooLarge,
)

log = logging.getLogger("factdesk")

STATUS = {
    DocumentNotFound: 404,
    UploadTooLarge: 413,
    InvalidInput: 422,
    EmbeddingModelMismatch: 409,
    StoreEmpty: 409,
    ModelFilesMissing: 503,
    EmbeddingUnavailable: 503,
    EmbeddingTimeout: 504,
    EmbeddingFailure: 502,
    # Only with ``mode: "llm"``; ``auto`` answers offline instead (fallback_reason says why).
    LLMNotConfigured: 503,
    LLMUnavailable: 503,
    LLMTimeout: 504,
    LLMFailure: 502,
}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(code, message))


def status_of(error: FactdeskError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FactdeskError)
    async def factdesk_error(_: Request, error: FactdeskError) -> JSONResponse:
        return error_response(status_of(error), error.code, error.message)

    @app.exception_handler(AccessDenied)
    async def access_denied(_: Request, error: AccessDenied) -> JSONResponse:
        response = error_response(error.status, error.code, error.message)
        response.headers.update(error.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_code(error), _describe(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "internal error; see the server log")


def _validation_code(error: RequestValidationError) -> str:
    kinds = {e.get("type") for e in error.errors()}
    if "json_invalid" in kinds:
        return "malformed_json"
    if kinds == {"invalid_text"}:  # the text rule alone (service/text_rules.py)
        return "invalid_text"
    return "invalid_request"


def _describe(error: RequestValidationError) -> str:
    parts = []
    for e in error.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        if e.get("type") == "json_invalid":
            return f"request body is not valid JSON: {e.get('ctx', {}).get('error', e.get('msg'))}"
        parts.append(f"{where}: {e.get('msg')}")
    return "; ".join(parts)
