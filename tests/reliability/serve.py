"""``factdesk serve`` as its own process on a free 127.0.0.1 port: started, waited for, stopped
or killed (``kill -9``) by the tests, which talk to it over HTTP only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.llm.servers import free_port

READY_TIMEOUT_S = 120.0  # each worker loads the embedding model; CI's two cores are shared
STOP_TIMEOUT_S = 20.0


def serve_env(**values: str) -> dict[str, str]:
    """This environment without any FACTDESK_* setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTDESK_")}
    env.update({"FACTDESK_LOG_LEVEL": "WARNING", "FACTDESK_LLM_MODEL": ""})
    env.update(values)
    return env


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from service.cli import app; app()", "serve", *args]


class ServeProcess:
    """``factdesk serve --port FREE ARGS`` in its own process group."""

    def __init__(self, log_path: Path, env: dict[str, str], args: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            serve_command("--host", "127.0.0.1", "--port", str(self.port), *args),
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def wait_ready(self) -> ServeProcess:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"factdesk serve exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            try:
                if self.client.get("/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"factdesk serve not ready in {READY_TIMEOUT_S:.0f} s:\n"
                           + self.log_tail())

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill9(self) -> None:
        """SIGKILL the server's whole process group (it and any workers) at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        self._close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self._close()

    def _close(self) -> None:
        self.client.close()
        self._log.close()
