"""Articles and their chunks in Chroma, the single source of truth.

Three collections: ``<prefix>_documents`` (one record per article: the full stored text and
its metadata, embedded as the mean of its chunk vectors), ``<prefix>_chunks`` (one record per
chunk, with its char offsets into the article text) and ``<prefix>_changes`` (below).

Chroma has no transactions, so writes are ordered to make the article record the commit
point: new chunks are written under a new ``version`` first, then the article record (which
names its current version) is upserted, then the chunks of the version it replaced are
deleted. A reader trusts only chunks whose version matches their article's record, so a crash
at any step leaves each article either as it was or whole; ``check`` finds what an interrupted
write left behind and ``repair`` removes it.

Several processes may write to one Chroma server. Each committed write also adds a record to
``<prefix>_changes`` (the article's id and new version, or none for a delete, and the time):
another process learns what changed by reading the records newer than the last it saw
(``changes_since``), without reading every article record. A write deletes only chunks it knows to be
dead (the version its article record replaced, or its own chunks after a failure that left the
record naming another version), never "every version but mine": those could be another
process's write in flight, whose record would then name missing chunks. Two processes writing
the same article at once leave one version current and the other's chunks as leftovers that
readers ignore and ``repair`` removes.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.errors import ChromaError

from service.domain import Article, Chunk
from service.errors import EmbeddingModelMismatch
from service.store.records import (
    Change,
    RecordRow,
    StoreCheck,
    StoredChunk,
    article_metadata,
    article_of,
    chunk_metadata,
    mean_vector,
    record_row,
    stored_chunk,
)

PAGE_SIZE = 1000
# Change records older than this are removed by the writes that follow: a process that fell
# further behind reads every article record instead (``Factdesk.sync(force=True)``).
CHANGE_RETENTION_S = 600.0
PRUNE_EVERY = 50  # writes of this process between prunes of old change records
CHANGED_KEY = "factdesk:changed"


def make_client(data_dir: str, chroma_url: str | None) -> ClientAPI:
    if chroma_url:
        parsed = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
        )
    return chromadb.PersistentClient(path=data_dir)


class ChromaStore:
    def __init__(self, client: ClientAPI, embedding_function: Any, prefix: str = "factdesk"):
        self.client = client
        self.embedding_function = embedding_function
        self.model = _model_signature(embedding_function)
        self.documents = self._open(f"{prefix}_documents")
        self.chunks = self._open(f"{prefix}_chunks")
        # Records only (a one-number vector each, since Chroma stores none without one).
        self.changes = client.get_or_create_collection(f"{prefix}_changes",
                                                       embedding_function=None)
        self._writes = 0

    def _open(self, name: str) -> Collection:
        try:
            collection = self.client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata=dict(self.model),
                embedding_function=self.embedding_function,
            )
        except ValueError as error:  # Chroma's own check of the persisted function
            raise EmbeddingModelMismatch(
                f"{self._mismatch(name, self._persisted_model(name))} ({error})"
            ) from error
        found = {key: (collection.metadata or {}).get(key) for key in self.model}
        if found != self.model:
            raise EmbeddingModelMismatch(self._mismatch(name, found))
        return collection

    def _persisted_model(self, name: str) -> dict[str, Any] | str:
        # Opened without a function (Chroma's "default" one is exempt from its conflict
        # check), only to read what the collection was built with, for the message.
        try:
            metadata = self.client.get_collection(name).metadata or {}
        except (ValueError, ChromaError):  # the message falls back to Chroma's own words
            return "another embedding function"
        return {key: metadata.get(key) for key in self.model}

    def _mismatch(self, name: str, found: dict[str, Any] | str) -> str:
        return (
            f"collection '{name}' was built with embedding model {found}, but factdesk is "
            f"configured with {self.model}; use another data directory or collection "
            "prefix, or re-ingest the articles into a new store"
        )

    # ---- reads -------------------------------------------------------------------------

    def get_article(self, document_id: str) -> tuple[Article, str] | None:
        got = self.documents.get(ids=[document_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return article_of(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def get_articles(self, document_ids: Sequence[str]) -> dict[str, tuple[Article, str]]:
        """The stored ones among ``document_ids``, read in one call, by id."""
        if not document_ids:
            return {}
        got = self.documents.get(ids=list(document_ids), include=["documents", "metadatas"])
        return {doc_id: article_of(doc_id, text, meta)
                for doc_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}

    def article_versions(self, document_ids: Sequence[str]) -> dict[str, RecordRow]:
        """Version, title, chunk count, date and source of the stored ones among
        ``document_ids``, from their records' metadata only."""
        if not document_ids:
            return {}
        got = self.documents.get(ids=list(document_ids), include=["metadatas"])
        return {doc_id: record_row(meta) for doc_id, meta in zip(got["ids"], got["metadatas"])}

    def list_articles(self, with_text: bool = False) -> list[tuple[Article, str]]:
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        found = []
        for page in _pages(self.documents, include):
            texts = page.get("documents") or [""] * len(page["ids"])
            for doc_id, text, meta in zip(page["ids"], texts, page["metadatas"]):
                found.append(article_of(doc_id, text or "", meta))
        return found

    def versions(self) -> dict[str, str]:
        """The current chunk version of every article."""
        return {article.id: version for article, version in self.list_articles()}

    def chunk_refs(self) -> Iterator[tuple[str, str, str, int]]:
        """(chunk id, document id, version, index) of every chunk, from metadata only."""
        for page in _pages(self.chunks, ["metadatas"]):
            for chunk_id, meta in zip(page["ids"], page["metadatas"]):
                yield chunk_id, str(meta["document_id"]), str(meta["version"]), int(meta["index"])

    def iter_chunks(self) -> Iterator[StoredChunk]:
        for page in _pages(self.chunks, ["documents", "metadatas"]):
            for chunk_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                yield stored_chunk(chunk_id, text, meta)

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[StoredChunk]:
        by_id = {}
        for start in range(0, len(chunk_ids), PAGE_SIZE):
            got = self.chunks.get(ids=list(chunk_ids[start : start + PAGE_SIZE]),
                                  include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                by_id[cid] = stored_chunk(cid, text, meta)
        return [by_id[cid] for cid in chunk_ids if cid in by_id]

    def query(
        self, embedding: np.ndarray, k: int, document_ids: Sequence[str] | None = None
    ) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance)."""
        where = {"document_id": {"$in": list(document_ids)}} if document_ids else None
        # Chroma returns what there is when k exceeds the collection (no count() round trip).
        got = self.chunks.query(
            query_embeddings=[embedding.tolist()],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        # A chunk deleted while the query ran comes back without its record: skip it.
        return [
            (stored_chunk(cid, text, meta), 1.0 - float(distance))
            for cid, text, meta, distance in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]
            )
            if meta is not None and text is not None
        ]

    def nearest_ids(self, embedding: np.ndarray, k: int,
                    document_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ids of the ``k`` chunks nearest ``embedding`` (of the articles
        ``document_ids``, when given) and their cosine similarity, without their texts or
        metadata: several times cheaper a result than ``query``."""
        where = {"document_id": {"$in": list(document_ids)}} if document_ids else None
        got = self.chunks.query(query_embeddings=[embedding.tolist()], n_results=k,
                                where=where, include=["distances"])
        return [(cid, 1.0 - float(distance))
                for cid, distance in zip(got["ids"][0], got["distances"][0])]

    # ---- writes ------------------------------------------------------------------------

    def put_article(
        self, article: Article, version: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> None:
        """Store an article and its chunks; replaces any earlier version of it whole."""
        self.put_articles([(article, version, chunks, vectors)])

    def put_articles(
        self, items: Sequence[tuple[Article, str, Sequence[Chunk], np.ndarray]]
    ) -> None:
        """Store several articles (distinct ids) in a few Chroma calls: every chunk, then every
        article record in one upsert (the commit point), then the change records, then the
        chunks of the versions replaced. Each article is stored whole or, on failure, left as it
        was."""
        if not items:
            return
        ids = [article.id for article, *_ in items]
        if len(set(ids)) != len(ids):
            raise ValueError("put_articles takes each article once")
        replaced = self._current_versions(ids)
        try:
            self._add_chunks([(article.id, version, chunk, vector)
                              for article, version, chunks, vectors in items
                              for chunk, vector in zip(chunks, vectors)])
            batch = self._batch_size()
            for start in range(0, len(items), batch):
                part = items[start : start + batch]
                self.documents.upsert(
                    ids=[article.id for article, *_ in part],
                    documents=[article.text for article, *_ in part],
                    metadatas=[article_metadata(article, version)
                               for article, version, _, _ in part],
                    embeddings=[mean_vector(vectors).tolist() for *_, vectors in part],
                )
        except BaseException:
            # Unless another writer committed this very version (the same content) meanwhile,
            # or an earlier part of the upsert did: those articles are whole, and logged.
            now = self._current_versions(ids)
            committed = [(a.id, v) for a, v, *_ in items if now.get(a.id) == v]
            if committed:
                self.log_changes(committed)
            for article, version, *_ in items:
                if now.get(article.id) != version:
                    self._delete_version(article.id, version)
            raise
        self.log_changes([(article.id, version) for article, version, *_ in items])
        for article, version, *_ in items:
            old = replaced.get(article.id)
            if old is not None and old != version:
                self._delete_version(article.id, old)

    def delete_article(self, document_id: str) -> None:
        version = self._current_versions([document_id]).get(document_id)
        self.documents.delete(ids=[document_id])  # the commit point
        self.log_changes([(document_id, None)])
        if version is not None:
            self._delete_version(document_id, version)

    # ---- telling other processes -------------------------------------------------------

    def log_changes(self, written: Sequence[tuple[str, str | None]]) -> None:
        """Record committed writes, (document id, new version or None when deleted), for
        ``changes_since``; now and then remove records older than CHANGE_RETENTION_S."""
        at = time.time()
        self.changes.add(
            ids=[uuid.uuid4().hex for _ in written],
            embeddings=[[1.0]] * len(written),
            metadatas=[{"document_id": doc_id, "version": version or "", "at": at}
                       for doc_id, version in written],
        )
        # Then a new token: a reader that finds the token it saw last (``change_token``, one
        # small read) knows no record was added since, without reading them.
        self.documents.modify(metadata={**self.model, CHANGED_KEY: uuid.uuid4().hex})
        self._writes += 1
        if self._writes % PRUNE_EVERY == 1:
            self.changes.delete(where={"at": {"$lt": at - CHANGE_RETENTION_S}})

    def change_token(self) -> str | None:
        """The token the last write left in the documents collection's metadata."""
        collection = self.client.get_collection(self.documents.name,
                                                embedding_function=self.embedding_function)
        token = (collection.metadata or {}).get(CHANGED_KEY)
        return str(token) if token is not None else None

    def changes_since(self, at: float) -> list[Change]:
        """The change records stamped at ``at`` or later, oldest first."""
        got = self.changes.get(where={"at": {"$gte": at}}, include=["metadatas"])
        found = [Change(cid, str(meta["document_id"]), str(meta["version"]) or None,
                        float(meta["at"]))
                 for cid, meta in zip(got["ids"], got["metadatas"])]
        return sorted(found, key=lambda change: change.at)

    def check(self) -> StoreCheck:
        """Read every article record and chunk's metadata (no texts, no vectors) and sort the
        chunks into current, stale (another version of their article) and orphan (no record)."""
        articles = {a.id: (version, a.chunk_count) for a, version in self.list_articles()}
        current: set[str] = set()
        held: dict[str, int] = defaultdict(int)
        check = StoreCheck(articles, current)
        for chunk_id, document_id, version, index in self.chunk_refs():
            record = articles.get(document_id)
            if record is None:
                check.orphan_chunks.append(chunk_id)
            elif version != record[0] or not 0 <= index < record[1]:
                check.stale_chunks.append(chunk_id)
            else:
                current.add(chunk_id)
                held[document_id] += 1
        check.incomplete_articles.extend(
            doc_id for doc_id, (_, count) in sorted(articles.items()) if held[doc_id] != count)
        return check

    def repair(self, check: StoreCheck | None = None) -> dict[str, int]:
        """Remove what no reader trusts: chunks of no article or of another version of their
        article, and articles whose current version misses chunks (with those it has).

        Run it when no write is in progress: a write in flight has chunks that no record names
        yet, which this would take for leftovers."""
        check = check or self.check()
        leftovers = [*check.stale_chunks, *check.orphan_chunks]
        for start in range(0, len(leftovers), PAGE_SIZE):
            self.chunks.delete(ids=leftovers[start : start + PAGE_SIZE])
        for document_id in check.incomplete_articles:
            self.delete_article(document_id)
        return {
            "stale_chunks_removed": len(leftovers),
            "incomplete_articles_removed": len(check.incomplete_articles),
            "articles": len(check.articles) - len(check.incomplete_articles),
        }

    def _batch_size(self) -> int:
        return max(1, min(self.client.get_max_batch_size(), 2048))

    def _add_chunks(self, rows: Sequence[tuple[str, str, Chunk, np.ndarray]]) -> None:
        """Upsert (document id, version, chunk, vector) rows, as few calls as Chroma allows."""
        batch = self._batch_size()
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            self.chunks.upsert(
                ids=[chunk.id for _, _, chunk, _ in part],
                documents=[chunk.text for _, _, chunk, _ in part],
                embeddings=[vector.tolist() for *_, vector in part],
                metadatas=[chunk_metadata(chunk, version) for _, version, chunk, _ in part],
            )

    def _current_versions(self, document_ids: Sequence[str]) -> dict[str, str]:
        return {doc_id: row.version for doc_id, row in self.article_versions(document_ids).items()}

    def _delete_version(self, document_id: str, version: str) -> None:
        self.chunks.delete(where={"$and": [{"document_id": document_id}, {"version": version}]})


def _model_signature(embedding_function: Any) -> dict[str, Any]:
    config = embedding_function.get_config()
    return {
        "embedding_function": embedding_function.name(),
        "embedding_model": str(config.get("model")),
        "embedding_dimensions": int(config.get("dimensions", 0)),
    }


def _pages(collection: Collection, include: list[str]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page = collection.get(limit=PAGE_SIZE, offset=offset, include=include)  # type: ignore[arg-type]
        if not page["ids"]:
            return
        yield page
        if len(page["ids"]) < PAGE_SIZE:  # the last page: no round trip to learn it
            return
        offset += len(page["ids"])
