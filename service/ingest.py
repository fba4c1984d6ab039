"""Ingest: articles in, parsed, chunked at exact offsets, embedded and stored, several per
Chroma call.

Each article of a batch is checked and parsed on its own: one that fails (bad id, too long,
empty, unknown format) gets its error, the others go on. What passes is chunked, embedded in
one pass (the embedder sorts every chunk of the batch by length, so little is padded) and
written with ``ChromaStore.put_articles``: a few calls for the whole batch, each article whole
or left as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service.chunk import chunk_article
from service.config import Settings
from service.domain import (
    Article,
    ArticleFormat,
    CatalogEntry,
    Chunk,
    IngestResult,
    IngestStatus,
)
from service.embed.select import Embedder
from service.errors import FactdeskError, InvalidInput
from service.parse import ParsedArticle, decode, detect_format, parse_article
from service.parse.pdf import is_pdf
from service.store import ChromaStore
from service.sync import StoreView
from service.text_rules import check_text, check_texts

DOCUMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


@dataclass(frozen=True)
class ArticleIn:
    """One article to ingest: its raw content and whatever metadata the caller gives."""

    raw: str | bytes
    format: ArticleFormat | str | None = None
    document_id: str | None = None
    filename: str | None = None
    title: str | None = None
    url: str | None = None
    published: str | None = None
    source: str | None = None
    author: str | None = None

    @classmethod
    def from_path(cls, path: Path, raw: bytes | None = None,
                  meta: dict[str, str] | None = None) -> ArticleIn:
        """A file (``raw``: its bytes, when already read); its name without the suffix is its
        id, and its suffix helps tell the format. ``meta`` gives any of ``published``,
        ``source``, ``url`` and ``author``."""
        raw = path.read_bytes() if raw is None else raw
        return cls(raw, document_id=id_from_filename(path), filename=path.name,
                   **(meta or {}))

    def metadata(self) -> dict[str, str]:
        """The id and metadata given, under the names the HTTP API takes them by (JSON fields
        and upload form fields alike)."""
        given = {"id": self.document_id, "title": self.title, "url": self.url,
                 "published": self.published, "source": self.source, "author": self.author}
        return {key: value for key, value in given.items() if value is not None}

    def as_request(self) -> dict[str, str]:
        """The JSON body ``POST /v1/documents`` (and each entry of ``/batch``) takes for it,
        the format told here from the file name where the server would see only the text.
        Raises InvalidInput when the bytes are not UTF-8."""
        fmt = self.format or detect_format(self.raw, self.filename)
        return {"text": decode(self.raw),
                "format": fmt.value if isinstance(fmt, ArticleFormat) else fmt,
                **self.metadata()}


# What ``ingest_many`` gives for each article: its result, or why it was refused.
Outcome = IngestResult | FactdeskError


@dataclass(frozen=True)
class _Ready:
    """An article parsed and identified, not yet stored."""

    id: str
    version: str
    content_hash: str
    parsed: ParsedArticle


class Ingester:
    def __init__(self, settings: Settings, embedder: Embedder, store: ChromaStore,
                 view: StoreView, write_lock: threading.Lock) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.view = view
        self.write_lock = write_lock

    def ingest(self, item: ArticleIn) -> IngestResult:
        """One article; its error is raised."""
        outcome = self.ingest_many([item])[0]
        if isinstance(outcome, FactdeskError):
            raise outcome
        return outcome

    def ingest_many(self, items: Sequence[ArticleIn]) -> list[Outcome]:
        """Each article's result or error, in order. An article whose id comes earlier in the
        batch is refused. A failure of the store or the embedder is raised, and leaves every
        article of the batch as it was or whole."""
        outcomes: list[Outcome | None] = [None] * len(items)
        ready: dict[int, _Ready] = {}
        seen: set[str] = set()
        for n, item in enumerate(items):
            try:
                prepared = self._prepare(item)
                if prepared.id in seen:
                    raise InvalidInput(f"id '{prepared.id}' comes earlier in the batch")
            except FactdeskError as error:
                outcomes[n] = error
                continue
            seen.add(prepared.id)
            ready[n] = prepared
        with self.write_lock:
            stored = self.store.article_versions([r.id for r in ready.values()])
            to_write: dict[int, tuple[Article, str, list[Chunk]]] = {}
            for n, prepared in ready.items():
                row = stored.get(prepared.id)
                if row is not None and row[0] == prepared.version:  # the same content
                    outcomes[n] = IngestResult(prepared.id, row[1], row[2],
                                               IngestStatus.UNCHANGED)
                else:
                    to_write[n] = self._article(prepared)
            chunks = [c for _, _, article_chunks in to_write.values() for c in article_chunks]
            vectors = self.embedder.embed([c.text for c in chunks])
            rows, first = [], 0
            for article, version, article_chunks in to_write.values():
                rows.append((article, version, article_chunks,
                             vectors[first : first + len(article_chunks)]))
                first += len(article_chunks)
            self.store.put_articles(rows)
            with self.view.lock:
                for article, version, article_chunks in to_write.values():
                    entry = CatalogEntry(version, article.title, article.published,
                                         article.source, article.url)
                    self.view.wrote(article.id, entry, article_chunks)
        for n, (article, _, article_chunks) in to_write.items():
            status = IngestStatus.UPDATED if article.id in stored else IngestStatus.CREATED
            outcomes[n] = IngestResult(article.id, article.title, len(article_chunks), status)
        return [outcome for outcome in outcomes if outcome is not None]

    def _prepare(self, item: ArticleIn) -> _Ready:
        if item.document_id is not None:
            check_document_id(item.document_id)
        # Uploads arrive as bytes; the limit is on the decoded text either way (a PDF's: on
        # the text extracted from it).
        as_pdf = is_pdf(item.raw) or str(item.format or "").strip().lower() == "pdf"
        content = item.raw if as_pdf and isinstance(item.raw, bytes) else decode(item.raw)
        if isinstance(content, str):
            check_text("text", content)
            self._check_length(content)
        check_texts([("title", item.title), ("url", item.url), ("published", item.published),
                     ("source", item.source), ("author", item.author),
                     ("format", item.format if isinstance(item.format, str) else None),
                     ("filename", item.filename)])
        parsed = parse_article(
            content, item.format, filename=item.filename, title=item.title, url=item.url,
            published=item.published, source=item.source, author=item.author,
        )
        self._check_length(parsed.text)
        described = {
            "text": parsed.text, "title": parsed.title, "author": parsed.author,
            "published": parsed.published, "url": parsed.url, "source": parsed.source,
        }
        content_hash = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
        doc_id = item.document_id or _derived_id(parsed.url, parsed.text)
        return _Ready(doc_id, content_hash[:16], content_hash, parsed)

    def _check_length(self, text: str) -> None:
        if len(text) > self.settings.max_document_chars:
            raise InvalidInput(f"text is {len(text)} characters; the limit is "
                               f"{self.settings.max_document_chars}")

    def _article(self, ready: _Ready) -> tuple[Article, str, list[Chunk]]:
        parsed = ready.parsed
        chunks = chunk_article(
            ready.id, parsed.text, version=ready.version,
            count_tokens=self.embedder.count_tokens,
            chunk_tokens=self.settings.chunk_tokens,
            overlap_tokens=self.settings.chunk_overlap_tokens,
        )
        article = Article(
            id=ready.id, text=parsed.text, title=parsed.title, content_hash=ready.content_hash,
            chunk_count=len(chunks), format=parsed.format,
            author=parsed.author, published=parsed.published, url=parsed.url,
            source=parsed.source, ingested_at=datetime.now(UTC).isoformat(),
        )
        return article, ready.version, list(chunks)


def check_document_id(document_id: str) -> None:
    if not DOCUMENT_ID.match(document_id):
        raise InvalidInput(
            "id must be 1-128 characters of letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit; got {document_id!r}"
        )


def id_from_filename(path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "-", path.stem).strip("-.") or "document"
    return stem[:128]


def _derived_id(url: str | None, text: str) -> str:
    basis = url if url else text
    return "doc-" + hashlib.sha256(basis.encode()).hexdigest()[:16]
