"""How articles and chunks map to Chroma records (ids, documents, metadata) and back, and the
plain records the store hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from service.domain import Article, CatalogEntry, Chunk


@dataclass(frozen=True)
class Change:
    """One committed write: ``version`` is the article's new version, None for a delete."""

    id: str
    document_id: str
    version: str | None
    at: float  # the writer's clock (seconds since the epoch) just before the record was added


class RecordRow(NamedTuple):
    """What an article record's metadata alone tells: its current version and what the
    catalog keeps of it."""

    version: str
    title: str
    chunk_count: int
    published: str | None = None
    source: str | None = None
    url: str | None = None

    def entry(self) -> CatalogEntry:
        return CatalogEntry(self.version, self.title, self.published, self.source, self.url)


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    version: str


@dataclass(frozen=True)
class StoreCheck:
    """What ``ChromaStore.check`` found: every article record with its current version and
    chunk count, the current chunks present, and what no reader trusts."""

    articles: dict[str, tuple[str, int]]  # id -> (current version, chunk count)
    current_chunks: set[str]  # chunks of an article's current version, present in Chroma
    stale_chunks: list[str] = field(default_factory=list)  # of an article's other versions
    orphan_chunks: list[str] = field(default_factory=list)  # of no article record
    # Records whose current version misses some of its chunks: never whole, so removed.
    incomplete_articles: list[str] = field(default_factory=list)

    @property
    def chunks(self) -> int:
        return len(self.current_chunks) + len(self.stale_chunks) + len(self.orphan_chunks)

    @property
    def problems(self) -> int:
        return len(self.stale_chunks) + len(self.orphan_chunks) + len(self.incomplete_articles)


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def chunk_metadata(chunk: Chunk, version: str) -> dict[str, Any]:
    return {
        "document_id": chunk.document_id,
        "version": version,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
    }


def stored_chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> StoredChunk:
    chunk = Chunk(
        id=chunk_id,
        document_id=str(meta["document_id"]),
        index=int(meta["index"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
    )
    return StoredChunk(chunk=chunk, version=str(meta["version"]))


OPTIONAL_FIELDS = ("author", "published", "url", "source", "ingested_at")


def article_metadata(article: Article, version: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": article.title,
        "content_hash": article.content_hash,
        "chunk_count": article.chunk_count,
        "format": article.format,
        "version": version,
    }
    for key in OPTIONAL_FIELDS:
        value = getattr(article, key)
        if value is not None:
            meta[key] = value
    return meta


def record_row(meta: dict[str, Any]) -> RecordRow:
    return RecordRow(str(meta.get("version", "")), str(meta.get("title", "")),
                     int(meta.get("chunk_count", 0)), _text_or_none(meta.get("published")),
                     _text_or_none(meta.get("source")), _text_or_none(meta.get("url")))


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def article_of(doc_id: str, text: str, meta: dict[str, Any]) -> tuple[Article, str]:
    article = Article(
        id=doc_id,
        text=text,
        title=str(meta.get("title", "")),
        content_hash=str(meta.get("content_hash", "")),
        chunk_count=int(meta.get("chunk_count", 0)),
        format=str(meta.get("format", "text")),
        **{key: meta.get(key) for key in OPTIONAL_FIELDS},
    )
    return article, str(meta.get("version", ""))
