"""Structured logs: one JSON object per line, carrying the id of the request being served.

The HTTP middleware sets the request id for the request's context (and so for the tasks and
worker threads serving it); every record logged meanwhile carries it. Fields given with
``extra=`` (method, route, status, duration_ms, ...) become keys of the object.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it is short and plain (it goes into headers and logs as is).
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
# The attributes every LogRecord has; anything else on a record came from ``extra=``
# (uvicorn adds a copy of its message with terminal colours, left out too).
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName",
                                                    "color_message"}

_request_id: ContextVar[str | None] = ContextVar("factdesk_request_id", default=None)


def request_id_from(offered: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is sane, else a new one."""
    if offered and _SANE_REQUEST_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def bind_request_id(request_id: str) -> Iterator[None]:
    """Records logged in this context (and its tasks and worker threads) carry ``request_id``."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra}``, one line each."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For people at a terminal: the usual line, then the request id and extra fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        request_id = fields.pop("request_id", None) or _request_id.get()
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        prefix = f"[{request_id}] " if request_id else ""
        head, _, rest = line.partition("\n")
        return f"{prefix}{head}{' ' + extra if extra else ''}" + (f"\n{rest}" if rest else "")


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger's records (uvicorn's too) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.setLevel(level)  # also for libraries that set their own loggers to DEBUG
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers pass their records up to the root handler; its access log is replaced
    # by factdesk's own (one line per request, with the route and request id).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
