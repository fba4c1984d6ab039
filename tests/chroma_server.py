"""Chroma's own server (``chroma run``, shipped with chromadb) on a free 127.0.0.1 port.

One server per test process, started at first use and stopped at the end of the session (see
the ``chroma_server`` fixture in tests/conftest.py). Desks on it stay apart by a collection
prefix of their own. ``FACTDESK_TEST_CHROMA=server`` points the shared ``settings`` fixtures
at it, so the API tests run against the server instead of the embedded store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tests.llm.servers import free_port

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def chroma_command() -> str:
    """The ``chroma`` CLI of this virtualenv (chromadb installs it next to python)."""
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise RuntimeError("the `chroma` command (installed with chromadb) was not found")
    return found


class ChromaServer:
    """``chroma run --path DIR --host 127.0.0.1 --port FREE``; ``stop()`` ends it (only it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.path.mkdir(parents=True, exist_ok=True)
        self._log_path = path / "chroma-server.log"
        self._log = self._log_path.open("wb")
        self.process = subprocess.Popen(
            [chroma_command(), "run", "--path", str(path / "db"), "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"chroma run exited ({self.process.returncode}):\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma run not ready in {READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self._log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def unique_prefix() -> str:
    """A collection prefix no other desk on the server uses."""
    return f"t{uuid.uuid4().hex[:16]}"


_shared: ChromaServer | None = None


def shared_chroma_server() -> ChromaServer:
    """This process's Chroma server, started on first use."""
    global _shared
    if _shared is None:
        _shared = ChromaServer(Path(tempfile.mkdtemp(prefix="factdesk-chroma-")))
    return _shared


def stop_shared_chroma_server() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        shutil.rmtree(_shared.path, ignore_errors=True)
        _shared = None


def server_mode() -> bool:
    return os.environ.get("FACTDESK_TEST_CHROMA", "").lower() == "server"


def store_settings() -> dict[str, Any]:
    """Settings that put a test desk on the shared server (with FACTDESK_TEST_CHROMA=server)
    under a prefix of its own; none (the embedded store in its data dir) otherwise."""
    if not server_mode():
        return {}
    return {"chroma_url": shared_chroma_server().url, "collection_prefix": unique_prefix()}
