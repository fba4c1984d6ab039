"""The factdesk services behind both doors (HTTP and CLI): ingest, list, delete, ask."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from service.answer import answer_by_rules, answer_offline
from service.answer.llm import open_answer_stream, prompt_passages, verify_draft
from service.chunk.chunker import chunk_id
from service.config import Settings, get_settings
from service.domain import (
    Answer,
    AnswerDelta,
    AnswerMode,
    AnswerSentence,
    Article,
    ArticleFormat,
    AskEvent,
    Chunk,
    CitationFound,
    IngestResult,
    Passage,
    PromptRef,
    Summary,
    SummaryEvent,
)
from service.embed.select import Embedder, make_embedder, make_embedding_function
from service.errors import (
    DocumentNotFound,
    InvalidInput,
    LLMFailure,
    NoSupportedSentence,
    StoreEmpty,
)
from service.ingest import ArticleIn, Ingester, Outcome, check_document_id
from service.llm.client import ChatStream, LLMClient
from service.reader import Reader, shared_reader
from service.retrieve import HybridRetriever, LexicalIndex, RetrievalMode
from service.retrieve.lexical import lexical_terms
from service.retrieve.term_cache import TermCache
from service.store import ChromaStore, StoreCheck
from service.store.chroma_store import make_client
from service.summarize import Source, make_source, summarize_offline
from service.summarize.llm import (
    SummaryDraft,
    limit_text,
    open_summary_stream,
    verify_summary,
)
from service.sync import StoreView
from service.verify.citations import verify_citation

Reply = TypeVar("Reply", Answer, Summary)

SEED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
READ_BATCH = 2000  # chunk ids per Chroma read when rebuilding the lexical index


class Factdesk:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or get_settings()
        self.embedder = embedder or make_embedder(self.settings)
        client = make_client(str(self.settings.data_dir), self.settings.chroma_url)
        self.store = ChromaStore(client, make_embedding_function(self.embedder),
                                 self.settings.collection_prefix)
        self.lexical = LexicalIndex()
        self._term_cache = TermCache(self.settings.data_dir)
        # Other processes may write to the same store (Chroma's server): ``sync`` applies what
        # they wrote (service/sync.py). Lock order: write, then the view's lock.
        self.view = StoreView(self.store, self.lexical)
        self._write_lock = threading.Lock()
        self.ingester = Ingester(self.settings, self.embedder, self.store, self.view,
                                 self._write_lock)
        self._reader: Reader | None = None
        self.llm = LLMClient(self.settings)  # builds its OpenAI client only when first asked
        self.retriever = HybridRetriever(
            self.store,
            self.lexical,
            embed_query=lambda text: self.embedder.embed_cached([text])[0],
            current_version=lambda doc_id: self.view.catalog.get(doc_id, (None, ""))[0],
            title_of=lambda doc_id: self.view.catalog.get(doc_id, ("", ""))[1],
        )
        self.reload()
        if self.settings.chroma_url:
            self.view.start_background(self.settings.full_sync_interval)

    @property
    def _catalog(self) -> dict[str, tuple[str, str]]:
        return self.view.catalog

    @property
    def reader(self) -> Reader:
        """The trained reader, loaded at the first offline answer."""
        if self._reader is None:
            self._reader = shared_reader(self.settings.reader_threads or None)
        return self._reader

    def reload(self) -> None:
        """Rebuild the in-memory catalog and lexical index from the store."""
        with self._write_lock:
            self._reload()

    def _reload(self) -> None:
        since = time.time()
        articles = self.store.list_articles()
        catalog = {a.id: (version, a.title) for a, version in articles}
        current = [chunk_id(a.id, version, i)
                   for a, version in articles for i in range(a.chunk_count)]
        cached = self._term_cache.load()
        whole = bool(cached.ids) and set(cached.ids) == set(current)
        terms: dict[str, list[str]] = {}
        if not whole:  # keep the cached terms of current chunks; read the others
            known = cached.terms
            terms = {cid: known[cid] for cid in current if cid in known}
        missing = [] if whole else [cid for cid in current if cid not in terms]
        for first in range(0, len(missing), READ_BATCH):
            for stored in self.store.get_chunks(missing[first:first + READ_BATCH]):
                terms[stored.chunk.id] = lexical_terms(stored.chunk.text)
        with self.view.lock:
            self.view.reset(catalog, since)
            if whole:  # the store is as the cache saw it: the index is ready
                self.lexical.restore(cached)
            else:
                self.lexical.replace_terms(terms)
        if not whole and current:
            self.close()  # builds the model now, rather than at the first question

    def close(self) -> None:
        """Keep the lexical index, built, for the next start (service/retrieve/term_cache.py)."""
        self._term_cache.save(self.lexical.snapshot())

    def sync(self, force: bool = False) -> None:
        """Catch up with what other processes wrote to the store: new and changed documents
        enter the catalog and lexical index, deleted ones leave them.

        With Chroma's server, runs before each read that uses the catalog (ask, summarize):
        one read of the change records since the last sync, then only the changed articles'
        records and chunks (service/sync.py). So a read that starts after another process's
        write was acknowledged sees it. ``force`` reads every article record instead, as the
        background re-check does every ``full_sync_interval`` seconds.
        """
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
                catalog = dict(self._catalog)
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
        """Several articles in a few Chroma calls: each one's result or error (service/ingest.py)."""
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
        return not self._catalog

    def counts(self) -> tuple[int, int]:
        """Documents and chunks, from the in-memory catalog and lexical index (no store scan)."""
        return len(self._catalog), len(self.lexical)

    # ---- questions ---------------------------------------------------------------------

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
    ) -> Answer:
        """The answer to ``question``: the last event of ``ask_stream``.

        ``auto`` uses the LLM when one is configured and falls back to the offline answer when
        it fails; ``llm`` raises the LLM's failure instead (LLMTimeout, LLMUnavailable,
        LLMFailure). In both, an LLM answer with no supported sentence gives the offline one.
        """
        return _last(self.ask_stream(question, top_k, document_ids, retrieval, mode), Answer)

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
    ) -> Iterator[AskEvent]:
        """Deltas while the LLM writes, then the verified citations, then the ``Answer``.

        Bad input, a missing LLM configuration (mode ``llm``) and an LLM that cannot be reached
        raise here, before any event; what fails later is raised (mode ``llm``) or becomes the
        offline answer (``auto``) inside the iteration. Closing the iterator early closes the
        request to the LLM server.
        """
        mode = _answer_mode(mode)
        self.sync()
        question = self.check_question(question)
        if mode is AnswerMode.LLM:
            self.llm.require()
        passages, texts = self._as_stored(self._retrieve(question, top_k, document_ids,
                                                         retrieval))
        if mode is AnswerMode.OFFLINE or (mode is AnswerMode.AUTO and not self.llm.configured):
            return iter([self._offline(question, passages, texts)])
        # LLM settings come with the client, so a desk can be pointed at another LLM.
        numbered = prompt_passages(passages, self.llm.settings)
        try:
            prompt, stream = open_answer_stream(self.llm, question, numbered, self.llm.settings)
        except LLMFailure as failure:
            if mode is AnswerMode.LLM:
                raise
            return iter([self._offline(question, passages, texts, failure.code)])
        return self._llm_events(question, passages, numbered, texts, prompt, stream, mode)

    def _llm_events(
        self,
        question: str,
        passages: Sequence[Passage],
        numbered: Sequence[Passage],
        texts: dict[str, str],
        prompt: PromptRef,
        stream: ChatStream,
        mode: AnswerMode,
    ) -> Iterator[AskEvent]:
        def verify(draft: str) -> Answer:
            return verify_draft(draft, numbered, texts, self.embedder, self.llm.settings, prompt,
                                all_passages=passages)

        def fallback(reason: str) -> Answer:
            return self._offline(question, passages, texts, reason)

        return _verified_events(stream, verify, fallback, texts, mode)

    def _retrieve(
        self,
        question: str,
        top_k: int | None,
        document_ids: Sequence[str] | None,
        retrieval: RetrievalMode,
    ) -> Sequence[Passage]:
        k = top_k if top_k is not None else self.settings.default_top_k
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidInput(f"top_k must be between 1 and {self.settings.max_top_k}, got {k}")
        if document_ids is not None:
            if len(document_ids) > self.settings.max_document_ids:
                raise InvalidInput(f"document_ids names {len(document_ids)} documents; the "
                                   f"limit is {self.settings.max_document_ids}")
            unknown = [d for d in document_ids if d not in self._catalog]
            if unknown:
                raise DocumentNotFound(f"unknown document ids: {', '.join(unknown)}")
            if not document_ids:
                raise InvalidInput("document_ids is empty; leave it out to search every document")
        return list(self.retriever.retrieve(question, k, document_ids, retrieval))

    def _offline(
        self,
        question: str,
        passages: Sequence[Passage],
        texts: dict[str, str],
        fallback_reason: str | None = None,
    ) -> Answer:
        if self.settings.answerer == "rules":
            answer = answer_by_rules(question, passages, texts, self.embedder)
        else:
            answer = answer_offline(question, passages, texts, self.reader,
                                    self.settings.reader_null_margin,
                                    self.settings.reader_rank_weight,
                                    self.settings.reader_passages)
        answer.mode = "offline"
        answer.fallback_reason = fallback_reason
        answer.prompt = None
        if not answer.sentences:  # the offline answer is one sentence: the answer, its citations
            answer.sentences = [AnswerSentence(answer.answer, tuple(answer.citations),
                                               bool(answer.citations))]
        _check_citations(answer, texts)
        return answer

    # ---- summaries ---------------------------------------------------------------------

    def summarize(
        self,
        document_ids: Sequence[str] | None = None,
        question: str | None = None,
        max_sentences: int | None = None,
        max_words: int | None = None,
        mode: AnswerMode | str = AnswerMode.AUTO,
    ) -> Summary:
        """The summary of the given articles, or of what the articles say about ``question``:
        the last event of ``summarize_stream``."""
        return _last(self.summarize_stream(document_ids, question, max_sentences, max_words,
                                           mode), Summary)

    def summarize_stream(
        self,
        document_ids: Sequence[str] | None = None,
        question: str | None = None,
        max_sentences: int | None = None,
        max_words: int | None = None,
        mode: AnswerMode | str = AnswerMode.AUTO,
    ) -> Iterator[SummaryEvent]:
        """As ``ask_stream``: deltas while the LLM writes the (final) summary, the verified
        citations, then the ``Summary``. Offline, or when the LLM fails in ``auto`` mode, the
        summary is extractive. Exactly one of ``document_ids`` and ``question`` is given."""
        mode = _answer_mode(mode)
        self.sync()
        max_sentences, max_words = self._summary_limits(max_sentences, max_words)
        sources, passages, focus = self._summary_sources(document_ids, question)
        if mode is AnswerMode.LLM:
            self.llm.require()
        if mode is AnswerMode.OFFLINE or (mode is AnswerMode.AUTO and not self.llm.configured):
            return iter([self._extractive(sources, focus, max_sentences, max_words)])
        titles = [s.article.title for s in sources]
        try:
            draft = open_summary_stream(self.llm, self.llm.settings, passages, titles, question,
                                        limit_text(max_sentences, max_words))
        except LLMFailure as failure:
            if mode is AnswerMode.LLM:
                raise
            return iter([self._extractive(sources, focus, max_sentences, max_words,
                                          failure.code)])
        return self._summary_events(sources, passages, focus, draft, max_sentences, max_words,
                                    mode)

    def _summary_events(self, sources: Sequence[Source], passages: Sequence[Passage],
                        focus: np.ndarray | None, draft: SummaryDraft, max_sentences: int | None,
                        max_words: int | None, mode: AnswerMode) -> Iterator[SummaryEvent]:
        texts = {s.article.id: s.article.text for s in sources}

        def verify(text: str) -> Summary:
            sentences = verify_summary(text, draft.numbered, passages, texts, self.embedder,
                                       self.llm.settings, max_sentences, max_words)
            return Summary(" ".join(s.text for s in sentences), sentences,
                           [s.article.id for s in sources], mode="llm", prompt=draft.prompt)

        def fallback(reason: str) -> Summary:
            return self._extractive(sources, focus, max_sentences, max_words, reason)

        return _verified_events(draft.stream, verify, fallback, texts, mode)

    def _extractive(self, sources: Sequence[Source], focus: np.ndarray | None,
                    max_sentences: int | None, max_words: int | None,
                    fallback_reason: str | None = None) -> Summary:
        sentences = summarize_offline(sources, self.embedder, max_sentences=max_sentences,
                                      max_words=max_words, focus=focus)
        summary = Summary(" ".join(s.text for s in sentences), sentences,
                          [s.article.id for s in sources], fallback_reason=fallback_reason)
        _check_citations(summary, {s.article.id: s.article.text for s in sources})
        return summary

    def _summary_limits(self, max_sentences: int | None,
                        max_words: int | None) -> tuple[int | None, int | None]:
        top = self.settings.max_summary_sentences
        if max_sentences is not None and not 1 <= max_sentences <= top:
            raise InvalidInput(f"max_sentences must be between 1 and {top}, got {max_sentences}")
        most = self.settings.max_summary_words
        if max_words is not None and not 10 <= max_words <= most:
            raise InvalidInput(f"max_words must be between 10 and {most}, got {max_words}")
        if max_sentences is None and max_words is None:
            max_sentences = self.settings.summary_sentences
        return max_sentences, max_words

    def _summary_sources(
        self, document_ids: Sequence[str] | None, question: str | None
    ) -> tuple[Sequence[Source], Sequence[Passage], np.ndarray | None]:
        """The articles to summarize, the passages an LLM reads, and the question's vector."""
        if (document_ids is None) == (question is None):
            raise InvalidInput("give either document ids or a question, not both or neither")
        if self.is_empty():
            raise StoreEmpty("the store holds no documents to summarize")
        if question is not None:
            question = self.check_question(question)
            found = self._retrieve(question, None, None, RetrievalMode.HYBRID)
            sources = []
            for doc_id in dict.fromkeys(p.chunk.document_id for p in found):
                whole = self._whole_article(doc_id)
                if whole is None:  # deleted since the retrieval
                    continue
                article, chunks = whole
                within = [c for c in chunks if any(p.chunk.id == c.id for p in found)]
                if within:  # else replaced since: the passages are of a text no longer stored
                    sources.append(make_source(article, chunks, within))
            kept = {s.article.id: {c.id for c in s.chunks} for s in sources}
            found = [p for p in found if p.chunk.id in kept.get(p.chunk.document_id, ())]
            focus = self.embedder.embed_cached([question])[0]
            return sources, found, focus
        ids = list(dict.fromkeys(document_ids or ()))
        if not ids:
            raise InvalidInput("document_ids is empty; name at least one document")
        limit = self.settings.max_summary_documents
        if len(ids) > limit:
            raise InvalidInput(f"{len(ids)} documents named; one summary takes at most {limit}")
        unknown = [d for d in ids if d not in self._catalog]
        if unknown:
            raise DocumentNotFound(f"unknown document ids: {', '.join(unknown)}")
        sources = []
        for doc_id in ids:
            whole = self._whole_article(doc_id)
            if whole is None:
                raise DocumentNotFound(f"no document with id '{doc_id}'")
            sources.append(make_source(*whole))
        passages = [p for s in sources for p in s.passages()]
        return sources, passages, None

    def _whole_article(self, document_id: str) -> tuple[Article, Sequence[Chunk]] | None:
        """The article and every chunk of its stored version, or None when it is not
        stored. Read with the record's own version, not the catalog's: an update committing
        between the two reads removes the old chunks, and the record is read again."""
        for _ in range(3):
            stored = self.store.get_article(document_id)
            if stored is None:
                return None
            article, version = stored
            ids = [chunk_id(article.id, version, i) for i in range(article.chunk_count)]
            chunks = [s.chunk for s in self.store.get_chunks(ids)]
            if len(chunks) == article.chunk_count:
                return article, chunks
        raise DocumentNotFound(f"document '{document_id}' changed while it was read; retry")

    def check_question(self, question: str) -> str:
        question = question.strip() if isinstance(question, str) else ""
        if not question:
            raise InvalidInput("question is empty")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(
                f"question is {len(question)} characters; the limit is "
                f"{self.settings.max_question_chars}"
            )
        return question

    def _as_stored(self, passages: Sequence[Passage]) -> tuple[list[Passage], dict[str, str]]:
        """The passages whose article is still stored in the version they were cut from, and
        each such article's text, read once. A write between retrieval and this read (a delete,
        or an update replacing the chunks) drops that article's passages: their offsets refer
        to a text no longer stored."""
        stored = self.store.get_articles(list(dict.fromkeys(p.chunk.document_id
                                                            for p in passages)))
        kept = [p for p in passages
                if (found := stored.get(p.chunk.document_id)) is not None
                and p.chunk.id == chunk_id(p.chunk.document_id, found[1], p.chunk.index)]
        texts = {doc_id: found[0].text for doc_id, found in stored.items()}
        return kept, texts


@dataclass
class DoctorReport:
    """What ``Factdesk.doctor`` found, in counts, and what ``repair`` removed."""

    articles: int
    chunks: int  # every chunk record, trusted or not
    stale_chunks: int  # of another version of their article (an interrupted update)
    orphan_chunks: int  # of no article record (an interrupted first write, or a delete)
    incomplete_articles: list[str]  # records whose current version misses chunks
    lexical_missing: int  # current chunks the lexical index lacks
    lexical_extra: int  # lexical entries that are no current chunk in the store
    catalog_mismatched: int  # documents whose catalog entry differs from the store's record
    repaired: dict[str, int] | None = None

    @property
    def problems(self) -> int:
        return (self.stale_chunks + self.orphan_chunks + len(self.incomplete_articles)
                + self.lexical_missing + self.lexical_extra + self.catalog_mismatched)

    @classmethod
    def of(cls, check: StoreCheck, catalog: dict[str, tuple[str, str]],
           lexical: set[str]) -> DoctorReport:
        versions = {doc_id: version for doc_id, (version, _) in check.articles.items()}
        mismatched = {doc_id for doc_id in catalog.keys() | versions.keys()
                      if catalog.get(doc_id, (None,))[0] != versions.get(doc_id)}
        return cls(
            articles=len(check.articles), chunks=check.chunks,
            stale_chunks=len(check.stale_chunks), orphan_chunks=len(check.orphan_chunks),
            incomplete_articles=list(check.incomplete_articles),
            lexical_missing=len(check.current_chunks - lexical),
            lexical_extra=len(lexical - check.current_chunks),
            catalog_mismatched=len(mismatched),
        )


def _verified_events(
    stream: ChatStream,
    verify: Callable[[str], Reply],
    fallback: Callable[[str], Reply],
    texts: dict[str, str],
    mode: AnswerMode,
) -> Iterator[AnswerDelta | CitationFound | Reply]:
    """The LLM's deltas as it writes, then the verified reply's citations, then the reply.

    ``verify`` turns the whole draft into an answer or summary with checked spans. When it finds
    no supported sentence, or (mode ``auto``) the LLM fails midway, ``fallback(reason)`` gives
    the offline reply instead; in mode ``llm`` an LLM failure is raised."""
    parts: list[str] = []
    try:
        with stream:
            for delta in stream:
                parts.append(delta)
                yield AnswerDelta(delta)
        reply = verify("".join(parts))
    except NoSupportedSentence as failure:
        reply = fallback(failure.code)
    except LLMFailure as failure:
        if mode is AnswerMode.LLM:
            raise
        reply = fallback(failure.code)
    _check_citations(reply, texts)
    for number, sentence in enumerate(reply.sentences):
        for citation in sentence.citations:
            yield CitationFound(number, citation)
    yield reply


def _last(events: Iterable[object], kind: type[Reply]) -> Reply:
    """The final event of a stream, drained: the reply itself."""
    final = None
    for final in events:
        pass
    assert isinstance(final, kind)
    return final


def _check_citations(reply: Answer | Summary, texts: dict[str, str]) -> None:
    """Every citation must be the stored text at its offsets; anything else is a bug."""
    cited = reply.citations if isinstance(reply, Answer) else []
    for citation in [*cited, *(c for s in reply.sentences for c in s.citations)]:
        if not verify_citation(citation, texts[citation.document_id]):
            raise AssertionError(f"citation {citation} does not match the stored text")


def _answer_mode(mode: AnswerMode | str) -> AnswerMode:
    try:
        return AnswerMode(mode)
    except ValueError:
        raise InvalidInput(f"mode must be offline, llm or auto; got {mode!r}") from None


__all__ = ["DoctorReport", "Factdesk", "check_document_id"]
