"""``factdesk ingest``: files and feeds into the store a batch at a time, into the local store
or a running server (``POST /v1/documents/batch``; a PDF through ``/v1/documents/upload``,
where the server reads its text), with a progress bar (articles/s, chunks/s, time left)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
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
from service.feeds import FEED_SUFFIXES, Fetch, fetch_url, looks_like_feed, read_feed
from service.ingest import ArticleIn, Outcome
from service.parse.pdf import is_pdf

if TYPE_CHECKING:
    from service.desk import Factdesk

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", *FEED_SUFFIXES}
HTTP_TIMEOUT_S = 600.0  # a batch of long articles takes a while to embed


@dataclass(frozen=True)
class Pending:
    """One article to ingest (a file, or an entry of a feed), or why it cannot be read."""

    label: str  # what the report names it by: the file's path, the entry's link
    article: ArticleIn | None = None
    error: str = ""


@dataclass(frozen=True)
class FileOutcome:
    label: str
    status: str  # created, updated, unchanged or error
    id: str | None = None
    title: str = ""
    chunks: int = 0
    error: str = ""


class BatchFailed(FactdeskError):
    """The server refused or failed a whole batch."""

    code = "batch_failed"


def find_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the article and feed files (by suffix) in the folders named,
    sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(f for f in sorted(path.rglob("*"))
                         if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


def pending_files(files: Sequence[Path], meta: dict[str, str] | None = None,
                  since: date | None = None) -> list[Pending]:
    """Each file as an article, a feed file as its entries (``since``: those published on or
    after it). ``meta`` (published, source, url, author) is given for every article; a feed
    gives its entries their own, but ``source`` overrides the feed's title."""
    meta = meta or {}
    pending: list[Pending] = []
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as error:
            pending.append(Pending(str(path), error=str(error)))
            continue
        if path.suffix.lower() in FEED_SUFFIXES or (
                path.suffix.lower() not in SUFFIXES and looks_like_feed(raw)):
            pending.extend(pending_feed(raw, str(path), since, None, meta.get("source")))
        else:
            pending.append(Pending(str(path), ArticleIn.from_path(path, raw, meta)))
    return pending


def pending_feed(raw: bytes, label: str, since: date | None, fetch: Fetch | None,
                 source: str | None = None) -> list[Pending]:
    """The entries of one feed, or one failed item when it is not a feed."""
    try:
        read = read_feed(raw, since=since, fetch=fetch, source=source)
    except FactdeskError as error:
        return [Pending(label, error=error.message)]
    left = [f"{n} {why}" for n, why in ((read.duplicates, "repeated"),
                                        (read.older, "older than --since or undated")) if n]
    print(f"{label}: {len(read.entries)} entries of {read.title or 'an untitled feed'}"
          + (f" ({', '.join(left)} left out)" if left else ""), file=sys.stderr)
    return [Pending(entry.label, entry.article, entry.error) for entry in read.entries]


def pending_feed_url(url: str, since: date | None, source: str | None = None) -> list[Pending]:
    """The feed at ``url``; entries without text are fetched from their links."""
    return pending_feed(fetch_url(url), url, since, fetch_url, source)


class BatchSender:
    """Ingests one batch of articles: into ``desk``, or through the server at ``url``."""

    def __init__(self, desk: Factdesk | None = None, url: str | None = None,
                 api_key: str | None = None) -> None:
        self.desk = desk
        self.client = None
        if url is not None:
            headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
            self.client = httpx.Client(base_url=url.rstrip("/"), headers=headers,
                                       timeout=HTTP_TIMEOUT_S)

    def send(self, items: Sequence[Pending]) -> list[FileOutcome]:
        outcomes = {n: FileOutcome(item.label, "error", error=item.error)
                    for n, item in enumerate(items) if item.article is None}
        ready = [(n, item.label, item.article) for n, item in enumerate(items)
                 if item.article is not None]
        sent = self._local(ready) if self.client is None else self._remote(ready)
        outcomes.update(sent)
        return [outcomes[n] for n in range(len(items))]

    def _local(self, ready: Sequence[tuple[int, str, ArticleIn]]) -> dict[int, FileOutcome]:
        if self.desk is None:
            raise RuntimeError("BatchSender has neither a desk nor a server URL")
        outcomes = {}
        for (n, label, _), outcome in zip(ready, self.desk.ingest_many([a for *_, a in ready])):
            outcomes[n] = _outcome(label, outcome)
        return outcomes

    def _remote(self, ready: Sequence[tuple[int, str, ArticleIn]]) -> dict[int, FileOutcome]:
        outcomes: dict[int, FileOutcome] = {}
        batch = []
        for n, label, article in ready:
            if is_pdf(article.raw):
                outcomes[n] = self._upload(label, article)
                continue
            try:
                batch.append((n, label, article.as_request()))
            except FactdeskError as error:
                outcomes[n] = FileOutcome(label, "error", error=error.message)
        if batch:
            reply = self._post("/v1/documents/batch",
                               json={"documents": [body for *_, body in batch]})
            for (n, label, _), result in zip(batch, reply.json()["results"]):
                outcomes[n] = _result(label, result)
        return outcomes

    def _upload(self, label: str, article: ArticleIn) -> FileOutcome:
        """A PDF, sent as a file: the server reads its text."""
        form = article.metadata()
        files = {"file": (article.filename or "article.pdf", article.raw, "application/pdf")}
        try:
            reply = self._post("/v1/documents/upload", data=form, files=files)
        except BatchFailed as error:
            return FileOutcome(label, "error", error=error.message)
        return _result(label, reply.json())

    def _post(self, path: str, **request: object) -> httpx.Response:
        if self.client is None:
            raise RuntimeError("BatchSender has no server URL")
        try:
            reply = self.client.post(path, **request)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            raise BatchFailed(f"the server could not be reached: {error}") from error
        if reply.status_code != 200:
            try:
                message = reply.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = reply.text[:200]
            raise BatchFailed(f"the server answered {reply.status_code}: {message}")
        return reply


def _outcome(label: str, outcome: Outcome) -> FileOutcome:
    if isinstance(outcome, FactdeskError):
        return FileOutcome(label, "error", error=outcome.message)
    return FileOutcome(label, outcome.status.value, outcome.id, outcome.title, outcome.chunks)


def _result(label: str, result: dict) -> FileOutcome:
    """One article's entry in a server's reply."""
    if result.get("status") == "error":
        return FileOutcome(label, "error", error=result["error"]["message"])
    return FileOutcome(label, result["status"], result["id"], result.get("title") or "",
                       result["chunks"])


class RateColumn(ProgressColumn):
    """Articles and chunks a second since the start."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0:
            return Text("")
        return Text(f"{task.completed / elapsed:.1f} articles/s, "
                    f"{task.fields.get('chunks', 0) / elapsed:.1f} chunks/s")


def ingest_files(items: Sequence[Pending], sender: BatchSender, batch: int) -> int:
    """Ingest ``items`` a batch at a time, printing one line per article (errors to stderr)
    and a summary; returns the number that failed."""
    console = Console(stderr=True)
    columns = (TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TimeRemainingColumn())
    failed = chunks = 0
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("ingest", total=len(items), chunks=0)
        for first in range(0, len(items), batch):
            for outcome in sender.send(items[first : first + batch]):
                if outcome.status == "error":
                    failed += 1
                    print(f"{outcome.label}: {outcome.error}", file=sys.stderr)
                    continue
                chunks += outcome.chunks if outcome.status != "unchanged" else 0
                # print, not click's echo: the progress bar shows the line above itself
                print(f"{outcome.status:9} {outcome.id}  {outcome.chunks} chunks  {outcome.title}")
            progress.update(task, advance=min(batch, len(items) - first), chunks=chunks)
    seconds = time.perf_counter() - started
    print(f"{len(items) - failed} of {len(items)} articles ingested, {chunks} chunks written, "
          f"in {seconds:.1f} s ({len(items) / seconds:.1f} articles/s, {chunks / seconds:.1f} "
          "chunks/s)", file=sys.stderr)
    return failed
