"""Debian's ``redis-server`` on a free 127.0.0.1 port, with nothing saved to disk: the shared
store of the rate limits in the tests. It can be stopped and started again on the same port,
as when Redis goes away and comes back."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.llm.servers import free_port

READY_TIMEOUT_S = 20.0


def redis_server_command() -> str:
    """The ``redis-server`` command: fail in CI (CI=true), skip elsewhere, when it is missing."""
    found = shutil.which("redis-server")
    if found:
        return found
    message = "redis-server is not installed (apt-get install redis-server; .ci/run does it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.command = redis_server_command()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.command, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.answers():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start:\n"
                           + (self.folder / "redis.log").read_text(errors="replace")[-2000:])

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
