"""A desk's view of the store (its catalog and lexical index), kept in step with what other
processes write to the same Chroma server.

- ``follow`` runs before each question and summary: one read of the store's change token
  (``ChromaStore.change_token``); only when it differs from the last one seen, the change
  records newer than the last seen (``ChromaStore.changes_since``), then the records and chunks
  of the articles they name, and nothing else. A write that any process acknowledged has its
  change record committed and a new token set after it, so the next ``follow`` anywhere sees
  it.
- ``recheck`` reads every article record and applies what differs: at start-up of a
  background thread's round (``start_background``), in case a writer died between its commit
  and its change record or a process fell behind the records kept.

Both apply under one lock, together with the desk's own writes. Each application marks the
articles it touched by a generation count, so a read that began before a newer application
(``recheck`` reading for a second while a write lands) never reverts it.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterable, Mapping

from service.chunk.chunker import chunk_id
from service.domain import CatalogEntry, Chunk
from service.retrieve import LexicalIndex
from service.retrieve.term_cache import TermCache
from service.retrieve.terms import lexical_terms
from service.store import ChromaStore, RecordRow

log = logging.getLogger("factdesk")

# Change records are read again for this long after the newest one seen: a record stamped just
# before another that committed first is still found. Hosts' clocks must agree within it.
OVERLAP_S = 10.0
TOUCHED_KEPT_S = 300.0  # longer than any read of the whole store takes
READ_BATCH = 2000  # chunk ids per Chroma read when building the lexical index




class StoreView:
    def __init__(self, store: ChromaStore, lexical: LexicalIndex) -> None:
        self.store = store
        self.lexical = lexical
        self.catalog: dict[str, CatalogEntry] = {}
        self.lock = threading.Lock()  # the catalog and the lexical index change together
        self._generation = 0
        self._touched: dict[str, tuple[int, float]] = {}  # id -> (generation, monotonic time)
        self._follow_lock = threading.Lock()
        self._cursor = time.time() - OVERLAP_S  # change records from here on are read
        self._seen: dict[str, float] = {}  # change records applied: id -> at
        self._token: str | None = None  # the change token when the records were last read
        self._reset_generation = 0
        self._stop = threading.Event()

    def catalog_entry(self, document_id: str) -> CatalogEntry | None:
        return self.catalog.get(document_id)

    def load(self, term_cache: TermCache) -> bool:
        """Read the catalog and the lexical index whole from the store, the lexical terms from
        ``term_cache`` where it holds them; True when the index was built anew (worth saving)."""
        since = time.time()
        articles = self.store.list_articles()
        catalog = {a.id: CatalogEntry(version, a.title, a.published, a.source, a.url)
                   for a, version in articles}
        current = [chunk_id(a.id, version, i)
                   for a, version in articles for i in range(a.chunk_count)]
        cached = term_cache.load()
        whole = bool(cached.ids) and set(cached.ids) == set(current)
        terms: dict[str, list[str]] = {}
        if not whole:  # keep the cached terms of current chunks; read the others
            known = cached.terms
            terms = {cid: known[cid] for cid in current if cid in known}
        missing = [] if whole else [cid for cid in current if cid not in terms]
        for first in range(0, len(missing), READ_BATCH):
            for stored in self.store.get_chunks(missing[first:first + READ_BATCH]):
                terms[stored.chunk.id] = lexical_terms(stored.chunk.text)
        with self.lock:
            self.reset(catalog, since)
            if whole:  # the store is as the cache saw it: the index is ready
                self.lexical.restore(cached)
            else:
                self.lexical.replace_terms(terms)
        return not whole and bool(current)

    # ---- this process's own writes (callers hold ``lock``) -----------------------------

    def reset(self, catalog: dict[str, CatalogEntry], since: float) -> None:  # under lock
        """The catalog read whole at ``since`` (time.time() before the read began)."""
        self.catalog = catalog
        self._touched.clear()
        self._generation += 1
        self._reset_generation = self._generation  # reads begun before it apply nothing
        self._cursor = since - OVERLAP_S
        self._seen.clear()
        self._token = None

    def wrote(self, document_id: str, entry: CatalogEntry, chunks: Iterable[Chunk]) -> None:
        self.lexical.remove_document(document_id)
        self.lexical.add((c.id, c.text) for c in chunks)
        self.catalog[document_id] = entry
        self._touch(document_id)

    def removed(self, document_id: str) -> None:
        self.lexical.remove_document(document_id)
        self.catalog.pop(document_id, None)
        self._touch(document_id)

    def _touch(self, document_id: str) -> None:
        self._generation += 1
        self._touched[document_id] = (self._generation, time.monotonic())

    # ---- what other processes wrote ----------------------------------------------------

    def follow(self) -> None:
        """Apply the writes other processes committed since the last call."""
        with self._follow_lock:
            # Read before the records: a write landing in between is in them or changes the
            # token again.
            token = self.store.change_token()
            if token is not None and token == self._token:
                return
            changes = self.store.changes_since(self._cursor)
            fresh = [c for c in changes if c.id not in self._seen]
            retry: set[str] = set()
            if fresh:
                with self.lock:
                    generation = self._generation
                ids = list(dict.fromkeys(c.document_id for c in fresh))
                retry = self._refresh(ids, self.store.article_versions(ids), generation)
                self._seen.update((c.id, c.at) for c in fresh if c.document_id not in retry)
            if changes:
                cursor = changes[-1].at - OVERLAP_S
                pending = [c.at for c in fresh if c.document_id in retry]
                self._cursor = max(self._cursor, min([cursor, *pending]))
                self._seen = {cid: at for cid, at in self._seen.items() if at >= self._cursor}
            self._token = None if retry else token  # a record left for later: look again

    def recheck(self) -> None:
        """Read every article record and apply whatever differs from the catalog."""
        with self.lock:
            generation = self._generation
        rows = {a.id: RecordRow(version, a.title, a.chunk_count, a.published, a.source, a.url)
                for a, version in self.store.list_articles()}
        with self.lock:
            ids = [doc_id for doc_id in rows.keys() | self.catalog.keys()
                   if self.catalog.get(doc_id, (None,))[0] != rows.get(doc_id, (None,))[0]]
            old = time.monotonic() - TOUCHED_KEPT_S
            self._touched = {d: t for d, t in self._touched.items() if t[1] >= old}
        left = self._refresh(ids, rows, generation)
        if left:  # written meanwhile: the change records bring them
            log.debug("recheck left %d articles written during it", len(left))

    def _refresh(self, ids: Iterable[str], rows: Mapping[str, RecordRow],
                 generation: int) -> set[str]:
        """Make the catalog and lexical index hold ``rows`` (read after ``generation``) for
        ``ids``; an id without a row is deleted. Returns the ids left alone: written here since
        (the view is newer than the rows), or replaced while their chunks were read."""
        with self.lock:
            changed = {doc_id: rows[doc_id] for doc_id in ids if doc_id in rows
                       and self.catalog.get(doc_id, (None,))[0] != rows[doc_id][0]}
            gone = {doc_id for doc_id in ids if doc_id not in rows and doc_id in self.catalog}
        wanted = [chunk_id(doc_id, row.version, i)
                  for doc_id, row in changed.items() for i in range(row.chunk_count)]
        chunks: dict[str, list[Chunk]] = {doc_id: [] for doc_id in changed}
        for stored in self.store.get_chunks(wanted):
            chunks[stored.chunk.document_id].append(stored.chunk)
        torn = {doc_id for doc_id, row in changed.items()
                if len(chunks[doc_id]) != row.chunk_count}
        with self.lock:
            recent = {doc_id for doc_id, (g, _) in self._touched.items() if g > generation}
            if self._reset_generation > generation:  # the whole view is newer than the rows
                recent = set(ids)
            skipped = (changed.keys() | gone) & (recent | torn)
            for doc_id in changed.keys() - skipped:
                self.wrote(doc_id, changed[doc_id].entry(), chunks[doc_id])
            for doc_id in gone - skipped:
                self.removed(doc_id)
        return skipped

    # ---- the background re-check -------------------------------------------------------

    def start_background(self, every: float) -> None:
        """Run ``recheck`` every ``every`` seconds in a daemon thread, until ``stop`` or until
        the view is no longer used."""
        ref = weakref.ref(self)
        stop = self._stop

        def loop() -> None:
            while not stop.wait(every):
                view = ref()
                if view is None:
                    return
                try:
                    view.recheck()
                except Exception:  # the store unreachable for a while: the next round retries
                    log.warning("background re-check of the store failed", exc_info=True)
                del view

        threading.Thread(target=loop, name="factdesk-recheck", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
