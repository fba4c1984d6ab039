"""``factdesk ingest``: files into the store a batch at a time, into the local store or a running
server's ``POST /v1/documents/batch``, with a progress bar (articles/s, chunks/s, time left)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from service.errors import FactdeskError
from service.ingest import ArticleIn

if TYPE_CHECKING:
    from service.desk import Factdesk

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
HTTP_TIMEOUT_S = 600.0  # a batch of long articles takes a while to embed


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    status: str  # created, updated, unchanged or error
    id: str | None = None
    title: str = ""
    chunks: int = 0
    error: str = ""


class BatchFailed(FactdeskError):
    """The server refused or failed a whole batch."""

    code = "batch_failed"


def find_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the article files (by suffix) in the folders named, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(f for f in sorted(path.rglob("*"))
                         if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


class BatchSender:
    """Ingests one batch of files: into ``desk``, or through the server at ``url``."""

    def __init__(self, desk: Factdesk | None = None, url: str | None = None,
                 api_key: str | None = None) -> None:
        self.desk = desk
        self.client = None
        if url is not None:
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers,
                                       timeout=HTTP_TIMEOUT_S)

    def send(self, files: Sequence[Path]) -> list[FileOutcome]:
        read: list[tuple[Path, bytes]] = []
        outcomes: dict[Path, FileOutcome] = {}
        for path in files:
            try:
                read.append((path, path.read_bytes()))
            except OSError as error:
                outcomes[path] = FileOutcome(path, "error", error=str(error))
        sent = self._local(read) if self.client is None else self._remote(read)
        outcomes.update((o.path, o) for o in sent)
        return [outcomes[path] for path in files]

    def _local(self, read: Sequence[tuple[Path, bytes]]) -> list[FileOutcome]:
        assert self.desk is not None
        items = [ArticleIn.from_path(path, raw) for path, raw in read]
        outcomes = []
        for (path, _), outcome in zip(read, self.desk.ingest_many(items)):
            if isinstance(outcome, FactdeskError):
                outcomes.append(FileOutcome(path, "error", error=outcome.message))
            else:
                outcomes.append(FileOutcome(path, outcome.status.value, outcome.id,
                                            outcome.title, outcome.chunks))
        return outcomes

    def _remote(self, read: Sequence[tuple[Path, bytes]]) -> list[FileOutcome]:
        assert self.client is not None
        outcomes, sendable = [], []
        for path, raw in read:
            try:
                sendable.append((path, ArticleIn.from_path(path, raw).as_request()))
            except FactdeskError as error:
                outcomes.append(FileOutcome(path, "error", error=error.message))
        if not sendable:
            return outcomes
        try:
            reply = self.client.post("/v1/documents/batch",
                                     json={"documents": [body for _, body in sendable]})
        except httpx.HTTPError as error:
            raise BatchFailed(f"the server could not be reached: {error}") from error
        if reply.status_code != 200:
            try:
                message = reply.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = reply.text[:200]
            raise BatchFailed(f"the server answered {reply.status_code}: {message}")
        for (path, _), result in zip(sendable, reply.json()["results"]):
            if result["status"] == "error":
                outcomes.append(FileOutcome(path, "error", error=result["error"]["message"]))
            else:
                outcomes.append(FileOutcome(path, result["status"], result["id"],
                                            result["title"] or "", result["chunks"]))
        return outcomes


class RateColumn(ProgressColumn):
    """Articles and chunks a second since the start."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0:
            return Text("")
        return Text(f"{task.completed / elapsed:.1f} articles/s, "
                    f"{task.fields.get('chunks', 0) / elapsed:.1f} chunks/s")


def ingest_files(files: Sequence[Path], sender: BatchSender, batch: int) -> int:
    """Ingest ``files`` a batch at a time, printing one line per file (errors to stderr) and
    a summary; returns the number of files that failed."""
    console = Console(stderr=True)
    columns = (TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TimeRemainingColumn())
    failed = chunks = 0
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("ingest", total=len(files), chunks=0)
        for first in range(0, len(files), batch):
            for outcome in sender.send(files[first : first + batch]):
                if outcome.status == "error":
                    failed += 1
                    print(f"{outcome.path}: {outcome.error}", file=sys.stderr)
                    continue
                chunks += outcome.chunks if outcome.status != "unchanged" else 0
                # print, not click's echo: the progress bar shows the line above itself
                print(f"{outcome.status:9} {outcome.id}  {outcome.chunks} chunks  {outcome.title}")
            progress.update(task, advance=min(batch, len(files) - first), chunks=chunks)
    seconds = time.perf_counter() - started
    print(f"{len(files) - failed} of {len(files)} files ingested, {chunks} chunks written, in "
          f"{seconds:.1f} s ({len(files) / seconds:.1f} articles/s, {chunks / seconds:.1f} "
          "chunks/s)", file=sys.stderr)
    return failed
