"""Structured logs and request ids: every response carries ``X-Request-ID`` (the caller's when
sane, else a new one), every log line of the request carries the same id, and no line ever
holds an API key."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.desk import Factdesk
from service.observability.logs import JsonFormatter, TextFormatter, configure_logging
from tests.api.keyed import API_KEYS, READ_KEY, WRITE_KEY, app_client, bearer
from tests.llm.servers import free_port
from tests.samples import SEED_QUESTION, TEXT_ARTICLE

pytestmark = pytest.mark.integration


class Captured(logging.Handler):
    """Every record, formatted as the service writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def entries(self, logger: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.lines]
        return [e for e in found if logger is None or e["logger"] == logger]


@pytest.fixture
def logs() -> Iterator[Captured]:
    root = logging.getLogger()
    handler, level = Captured(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_request_id_is_generated(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/v1/documents").headers["x-request-id"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize("offered", ["req-42", "7d0c0a1e-4f5b-4c55-9a3e-2c6f1b8f0e11",
                                     "edge.lb:1234"])
def test_a_sane_request_id_is_echoed(client: TestClient, offered: str) -> None:
    response = client.post("/v1/ask", json={"question": SEED_QUESTION},
                           headers={"X-Request-ID": offered})
    assert response.headers["x-request-id"] == offered


@pytest.mark.parametrize("offered", ["has spaces", "x" * 200, "<script>", "-leading", ""])
def test_an_odd_request_id_is_replaced(client: TestClient, offered: str) -> None:
    returned = client.get("/healthz", headers={"X-Request-ID": offered}).headers["x-request-id"]
    assert returned != offered and len(returned) == 32


def test_errors_carry_the_request_id_too(client: TestClient) -> None:
    for response in (client.get("/v1/documents/nothing"), client.post("/v1/ask", json={}),
                     client.get("/nowhere")):
        assert response.status_code in (404, 422)
        assert len(response.headers["x-request-id"]) == 32


def test_access_line_is_one_json_object(client: TestClient, logs: Captured) -> None:
    client.get("/v1/documents/nothing", headers={"X-Request-ID": "req-access"})
    [entry] = [e for e in logs.entries("factdesk.access") if e.get("request_id") == "req-access"]
    assert entry["level"] == "INFO"
    assert entry["method"] == "GET"
    assert entry["route"] == "/v1/documents/{document_id:path}"
    assert entry["path"] == "/v1/documents/nothing"
    assert entry["status"] == 404
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["message"] == "GET /v1/documents/nothing 404"
    assert entry["time"].endswith("Z")


def test_api_keys_never_reach_the_logs(desk: Factdesk, logs: Captured) -> None:
    with app_client(desk, api_keys=API_KEYS) as client:
        client.get("/v1/documents", headers=bearer(READ_KEY))
        client.post("/v1/ask", json={"question": SEED_QUESTION},
                    headers={"X-API-Key": READ_KEY})
        client.post("/v1/documents", json={"text": TEXT_ARTICLE}, headers=bearer(READ_KEY))
        client.get("/v1/documents", headers=bearer(WRITE_KEY + "-wrong"))
        client.get("/v1/documents", headers={"X-API-Key": WRITE_KEY[:-2]})
        client.get("/metrics", headers=bearer(WRITE_KEY))
    text = "\n".join(logs.lines)
    assert text, "nothing was logged"
    for secret in (READ_KEY, WRITE_KEY, READ_KEY[3:], WRITE_KEY[3:-2]):
        assert secret not in text
    access = [(e["status"], e.get("key_id")) for e in logs.entries("factdesk.access")]
    assert [status for status, _ in access] == [200, 200, 403, 401, 401, 200]
    read_id = access[0][1]
    assert isinstance(read_id, str) and read_id.startswith("key-")
    assert access[1][1] == access[2][1] == read_id  # named by its hash, the same each time
    assert access[5][1] not in (None, read_id)
    assert access[3][1] is None  # an unknown key is not named at all


def test_an_unexpected_error_is_logged_with_the_request_id(
    desk: Factdesk, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("injected fault: the store cannot be listed")

    monkeypatch.setattr(desk, "list", broken)
    with TestClient(create_app(desk), raise_server_exceptions=False) as client:
        response = client.get("/v1/documents", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"] == "req-boom"
    mine = [e for e in logs.entries() if e.get("request_id") == "req-boom"]
    error = next(e for e in mine if e["message"] == "unexpected error")
    assert error["level"] == "ERROR" and "injected fault" in error["exception"]
    access = next(e for e in mine if e["logger"] == "factdesk.access")
    assert access["status"] == 500 and access["level"] == "ERROR"


# ---- formatters and set-up ---------------------------------------------------------------------


def record(message: str, **extra: Any) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "factdesk.test", "levelname": "WARNING",
                                  "levelno": logging.WARNING, "msg": message, "args": ()})
    made.__dict__.update(extra)
    return made


def test_json_formatter_keeps_extra_fields_and_exceptions() -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        failed = record("it failed", status=503, route="/v1/ask", exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(failed))
    assert entry["message"] == "it failed"
    assert entry["level"] == "WARNING" and entry["logger"] == "factdesk.test"
    assert (entry["status"], entry["route"]) == (503, "/v1/ask")
    assert "ValueError: bad value" in entry["exception"]
    assert "\n" not in JsonFormatter().format(failed)


def test_text_formatter_for_people() -> None:
    line = TextFormatter().format(record("hello", request_id="req-9", status=200))
    assert "WARNING factdesk.test: hello" in line
    assert line.startswith("[req-9] ") and line.endswith("status=200")


def test_configure_logging_sends_json_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("INFO", "json")
        logging.getLogger("factdesk.test").info("configured", extra={"documents": 3})
        logging.getLogger("factdesk.test").debug("not shown")
        chatty = logging.getLogger("factdesk.test.chatty")  # as a library may set its own
        chatty.setLevel(logging.DEBUG)
        chatty.debug("not shown either")
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("uvicorn.access").disabled = False
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert (entry["message"], entry["documents"], entry["level"]) == ("configured", 3, "INFO")


# ---- the real server ---------------------------------------------------------------------------


def test_serve_logs_json_lines_with_request_ids(tmp_path: Path) -> None:
    """``factdesk serve`` configures the logs: uvicorn's own lines and factdesk's access lines
    are JSON, the request id is the one the client sent, and the key appears nowhere."""
    port = free_port()
    env = {**os.environ, "FACTDESK_DATA_DIR": str(tmp_path / "data"),
           "FACTDESK_API_KEYS": API_KEYS, "FACTDESK_LOG_FORMAT": "json",
           "FACTDESK_LOG_LEVEL": "INFO", "FACTDESK_LLM_MODEL": ""}
    stderr = (tmp_path / "stderr.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import app; app()", "serve",
         "--port", str(port), "--no-seed"], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "stderr.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        response = httpx.get(f"{base}/v1/documents",
                             headers={**bearer(READ_KEY), "X-Request-ID": "req-served"})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "req-served"
        assert httpx.get(f"{base}/v1/documents").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
        stderr.close()
    text = (tmp_path / "stderr.log").read_text()
    assert READ_KEY not in text and WRITE_KEY not in text
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(e["logger"].startswith("uvicorn") for e in entries)
    assert not any("color_message" in e for e in entries)
    [served] = [e for e in entries if e.get("request_id") == "req-served"]
    assert (served["logger"], served["route"], served["status"]) == (
        "factdesk.access", "/v1/documents", 200)
    assert served["key_id"].startswith("key-")
    refused = [e for e in entries if e.get("status") == 401]
    assert len(refused) == 1 and refused[0]["request_id"] != "req-served"
