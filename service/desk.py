"""The factdesk services behind both doors (HTTP and CLI), composed over one store.

Each feature is a module of its own; ``Factdesk`` builds them over the same store, embedder,
in-memory view and LLM client, and hands each call to its service:

- ingest: ``service/ingest.py`` (articles in, parsed, chunked, embedded, stored in batches);
- keeping the view in step with other processes: ``service/sync.py``;
- ask: ``service/ask.py``; summarize: ``service/summarize/service.py``;
- the store's consistency: ``doctor`` here, with ``service/store/doctor.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from service.answer import OfflineAnswerer
from service.ask import Asker
from service.config import Settings, get_settings
from service.domain import (
    Answer,
    AnswerMode,
    Article,
    ArticleFormat,
    AskEvent,
    IngestResult,
    Summary,
    SummaryEvent,
)
from service.embed.select import Embedder, make_embedder, make_embedding_function
from service.errors import DocumentNotFound
from service.ingest import ArticleIn, Ingester, Outcome, check_document_id
from service.llm.client import LLMClient
from service.reader import Reader, shared_reader
from service.reply import last_event
from service.retrieval import ScopedRetrieval
from service.retrieve import HybridRetriever, LexicalIndex, RetrievalMode
from service.retrieve.term_cache import TermCache
from service.scope import Scope
from service.store import ChromaStore
from service.store.chroma_store import make_client
from service.store.doctor import DoctorReport
from service.summarize.service import Summarizer
from service.sync import StoreView

SEED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}


class Factdesk:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 answerer: OfflineAnswerer | None = None):
        """``answerer``: an offline answerer in the reader's place (a baseline of the eval
        tooling, service/evaluation/rules_answerer.py); None, the trained reader."""
        self.settings = settings or get_settings()
        self.embedder = embedder or make_embedder(self.settings)
        client = make_client(str(self.settings.data_dir), self.settings.chroma_url)
        self.store = ChromaStore(client, make_embedding_function(self.embedder),
                                 self.settings.collection_prefix)
        self.lexical = LexicalIndex()
        self._term_cache = TermCache(self.settings.data_dir)
        # The catalog and lexical index, kept in step with what other processes write to the
        # same store (Chroma's server). Lock order: write, then the view's lock.
        self.view = StoreView(self.store, self.lexical)
        self._write_lock = threading.Lock()
        self._reader: Reader | None = None
        self._llm = LLMClient(self.settings)  # builds its OpenAI client only when first asked
        self.retriever = HybridRetriever(
            self.store,
            self.lexical,
            embed_query=lambda text: self.embedder.embed_cached([text])[0],
            entry_of=self.view.catalog_entry,
            article_count=lambda: len(self.view.catalog),
        )
        self.ingester = Ingester(self.settings, self.embedder, self.store, self.view,
                                 self._write_lock)
        self.retrieval = ScopedRetrieval(self.settings, self.store, self.view, self.retriever,
                                         self.sync)
        self.asker = Asker(self.settings, self.embedder, self.retrieval, self._llm,
                           lambda: self.reader, answerer)
        self.summarizer = Summarizer(self.settings, self.embedder, self.store, self.view,
                                     self._llm, self.retrieval)
        self.reload()
        if self.settings.chroma_url:
            self.view.start_background(self.settings.full_sync_interval)

    @property
    def llm(self) -> LLMClient:
        return self._llm

    @llm.setter
    def llm(self, client: LLMClient) -> None:
        """Point the desk (its answers and summaries) at another LLM."""
        self._llm = self.asker.llm = self.summarizer.llm = client

    @property
    def reader(self) -> Reader:
        """The trained reader, loaded at the first offline answer."""
        if self._reader is None:
            self._reader = shared_reader(self.settings.reader_threads or None)
        return self._reader

    # ---- the store and this desk's view of it ------------------------------------------

    def reload(self) -> None:
        """Rebuild the in-memory catalog and lexical index from the store."""
        with self._write_lock:
            self._reload()

    def _reload(self) -> None:
        if self.view.load(self._term_cache):
            self.close()  # builds the model now, rather than at the first question

    def close(self) -> None:
        """Keep the lexical index, built, for the next start (service/retrieve/term_cache.py)."""
        self._term_cache.save(self.lexical.snapshot())

    def sync(self, force: bool = False) -> None:
        """Catch up with what other processes wrote to the store (service/sync.py): with
        Chroma's server, before each question and summary, so that a read that starts after
        another process's write was acknowledged sees it. ``force`` reads every article record,
        as the background re-check does every ``full_sync_interval`` seconds."""
        if force:
            self.view.recheck()
        elif self.settings.chroma_url is not None:
            # The embedded store is this process's alone (Chroma's PersistentClient is not
            # safe for several), so nobody else writes to it: nothing to catch up with.
            self.view.follow()

    def doctor(self, repair: bool = False) -> DoctorReport:
        """Check that the store is consistent and that this desk's catalog and lexical index
        match it; with ``repair``, remove what no reader trusts and rebuild both indexes.

        Repair when no other process is writing: a write in flight has chunks that no record
        names yet, which repair would take for leftovers of a crash."""
        with self._write_lock:
            self.sync(force=True)  # what other processes wrote is not this desk's fault
            check = self.store.check()
            with self.view.lock:
                catalog = dict(self.view.catalog)
            report = DoctorReport.of(check, catalog, self.lexical.chunk_ids())
            if repair:
                report.repaired = self.store.repair(check)
                self._reload()
        return report

    # ---- documents ---------------------------------------------------------------------

    def ingest(
        self,
        raw: str | bytes,
        fmt: ArticleFormat | str | None = None,
        *,
        document_id: str | None = None,
        filename: str | None = None,
        title: str | None = None,
        url: str | None = None,
        published: str | None = None,
        source: str | None = None,
        author: str | None = None,
    ) -> IngestResult:
        return self.ingester.ingest(ArticleIn(raw, fmt, document_id, filename, title, url,
                                              published, source, author))

    def ingest_many(self, items: Sequence[ArticleIn]) -> list[Outcome]:
        """Several articles in a few Chroma calls: each one's result or error."""
        return self.ingester.ingest_many(items)

    def ingest_path(self, path: Path) -> IngestResult:
        return self.ingester.ingest(ArticleIn.from_path(path))

    def ingest_seeds(self) -> list[IngestResult]:
        seeds = sorted(p for p in self.settings.seeds_dir.glob("*") if p.suffix in SEED_SUFFIXES)
        return [self.ingest_path(p) for p in seeds]

    def get(self, document_id: str) -> Article:
        found = self.store.get_article(document_id)
        if not found:
            raise DocumentNotFound(f"no document with id '{document_id}'")
        return found[0]

    def list(self) -> list[Article]:
        return sorted((a for a, _ in self.store.list_articles()), key=lambda a: a.id)

    def delete(self, document_id: str) -> None:
        with self._write_lock:
            self.get(document_id)
            self.store.delete_article(document_id)
            with self.view.lock:
                self.view.removed(document_id)

    def is_empty(self) -> bool:
        return not self.view.catalog

    def counts(self) -> tuple[int, int]:
        """Documents and chunks, from the in-memory catalog and lexical index (no store scan)."""
        return len(self.view.catalog), len(self.lexical)

    # ---- questions and summaries -------------------------------------------------------

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
        min_confidence: float | None = None,
        scope: Scope | None = None,
    ) -> Answer:
        """The answer to ``question``: the last event of ``ask_stream``."""
        return last_event(self.ask_stream(question, top_k, document_ids, retrieval, mode,
                                          min_confidence, scope), Answer)

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
        min_confidence: float | None = None,
        scope: Scope | None = None,
    ) -> Iterator[AskEvent]:
        """Deltas while the LLM writes, then the verified citations, then the ``Answer``
        (service/ask.py), from the articles ``scope`` admits (service/scope.py)."""
        return self.asker.ask_stream(question, top_k, document_ids, retrieval, mode,
                                     min_confidence, scope)

    def summarize(
        self,
        document_ids: Sequence[str] | None = None,
        question: str | None = None,
        max_sentences: int | None = None,
        max_words: int | None = None,
        mode: AnswerMode | str = AnswerMode.AUTO,
        scope: Scope | None = None,
        timeline: bool = False,
    ) -> Summary:
        """The summary of the given articles, or of what the articles say about ``question``:
        the last event of ``summarize_stream``."""
        return last_event(self.summarize_stream(document_ids, question, max_sentences,
                                                max_words, mode, scope, timeline), Summary)

    def summarize_stream(
        self,
        document_ids: Sequence[str] | None = None,
        question: str | None = None,
        max_sentences: int | None = None,
        max_words: int | None = None,
        mode: AnswerMode | str = AnswerMode.AUTO,
        scope: Scope | None = None,
        timeline: bool = False,
    ) -> Iterator[SummaryEvent]:
        """As ``ask_stream``, for a summary (service/summarize/service.py); ``timeline``:
        dated sentences in date order."""
        return self.summarizer.summarize_stream(document_ids, question, max_sentences,
                                                max_words, mode, scope, timeline)


__all__ = ["DoctorReport", "Factdesk", "check_document_id"]
