"""scale.py's measuring helpers: memory from /proc, disk use, a stopwatch that times parts of
the code by patching them, the fingerprint of the code measured, and ``chroma run`` on a free
port."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

from scale_texts import REPO

# ---------------------------------------------------------------- measuring helpers


def proc_status_kib(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_mib(pid: int | str = "self") -> float:
    return proc_status_kib("VmHWM", pid) / 1024


def rss_mib(pid: int | str = "self") -> float:
    return proc_status_kib("VmRSS", pid) / 1024


def store_bytes(folder: Path, skip: Path | None = None) -> dict[str, int]:
    """Bytes on disk (allocated blocks): all, the SQLite file, and the rest (Chroma's vector
    segments), leaving out ``skip`` (factdesk's own lexical cache, counted apart)."""
    total = sqlite = 0
    for path in folder.rglob("*"):
        if not path.is_file() or (skip is not None and path.is_relative_to(skip)):
            continue
        size = path.stat().st_blocks * 512
        total += size
        if path.name.startswith("chroma.sqlite3"):
            sqlite += size
    return {"total": total, "sqlite": sqlite, "vector_segments": total - sqlite}


def lexical_cache_folder(data_dir: Path) -> Path | None:
    """Where the desk keeps its lexical index between starts, when it does."""
    try:
        from service.retrieve.term_cache import FOLDER
    except ImportError:
        return None
    return data_dir / FOLDER


class Stopwatch:
    """Seconds spent in wrapped callables, by label, each exclusive of the wrapped callables
    it calls (a BM25 build inside a search counts once, as the build)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self._children: list[float] = []  # time in nested timers, per active timer

    def _enter(self) -> float:
        self._children.append(0.0)
        return time.perf_counter()

    def _exit(self, label: str, start: float) -> None:
        elapsed = time.perf_counter() - start
        self.current[label] += elapsed - self._children.pop()
        if self._children:
            self._children[-1] += elapsed

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = self._enter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(label, start)

        return timed

    def patch(self, owner: Any, name: str, label: str) -> None:
        """Replace ``owner.name`` (an instance's method or a module's function) by a timed one."""
        setattr(owner, name, self.wrap(label, getattr(owner, name)))

    def wrap_iter(self, label: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
        """Time spent producing the items of a generator (not in the consumer)."""

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = fn(*args, **kwargs)
            while True:
                start = self._enter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self._exit(label, start)
                yield item

        return timed

    def take(self) -> dict[str, float]:
        taken = dict(self.current)
        self.current = defaultdict(float)
        return taken


def code_fingerprint() -> dict[str, str]:
    """Which service code was measured: the commit and a hash of service/ as it is on disk
    (uncommitted edits included)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "service").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "service"], cwd=REPO,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "unknown", ""
    return {"commit": head, "service_sha256": digest.hexdigest()[:16],
            "service_uncommitted_changes": "yes" if dirty else "no"}


# ---------------------------------------------------------------- the Chroma server


class ChromaServer:
    """``chroma run`` on a free port, for one build or one measurement."""

    def __init__(self, path: Path, log_path: Path) -> None:
        self.path = path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.startup_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.path.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = start + 120
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"chroma run exited ({self.process.returncode}); see "
                                 f"{self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    self.startup_s = time.perf_counter() - start
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"chroma run did not answer within 120 s; see {self.log_path}")

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.process.pid) if self.process else 0.0

    def rss_mib(self) -> float:
        return rss_mib(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc: object) -> None:
        self.stop()
