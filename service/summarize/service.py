"""Summaries: of named articles, or of what the articles say about a question; extractive
offline, or written by the LLM (streamed) with every sentence's citations verified."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from service.chunk.chunker import chunk_id
from service.config import Settings
from service.domain import AnswerMode, Article, Chunk, Passage, Summary, SummaryEvent
from service.embed.select import Embedder
from service.errors import DocumentNotFound, InvalidInput, LLMFailure, StoreEmpty
from service.llm.client import LLMClient
from service.reply import answer_mode, check_citations, verified_events
from service.retrieval import ScopedRetrieval
from service.retrieve import RetrievalMode
from service.scope import Scope, admitted, within
from service.store import ChromaStore
from service.summarize import Source, make_source, summarize_offline
from service.summarize.llm import SummaryDraft, limit_text, open_summary_stream, verify_summary
from service.summarize.timeline import default_timeline_sentences, timeline_offline
from service.sync import StoreView


class Summarizer:
    def __init__(self, settings: Settings, embedder: Embedder, store: ChromaStore,
                 view: StoreView, llm: LLMClient, retrieval: ScopedRetrieval) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.view = view
        self.llm = llm
        self.retrieval = retrieval  # the same question checks and retrieval as asking

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
        """As ``ask_stream``: deltas while the LLM writes the (final) summary, the verified
        citations, then the ``Summary``. Offline, or when the LLM fails in ``auto`` mode, the
        summary is extractive. At most one of ``document_ids`` and ``question`` is given;
        ``scope`` filters what either draws on. With neither, the summary is of the articles
        the scope's filter admits (the newest ``max_summary_documents`` of them).

        A ``timeline`` is extractive whatever the mode (an LLM is not asked to date
        sentences): its sentences carry their dates, oldest first."""
        mode = answer_mode(mode)
        if timeline and mode is AnswerMode.LLM:
            raise InvalidInput("a timeline is made of the articles' own sentences; use mode "
                               "offline or auto with timeline")
        self.retrieval.sync()
        given = max_sentences is not None or max_words is not None
        max_sentences, max_words = self._summary_limits(max_sentences, max_words)
        scope = scope or Scope()
        if document_ids is None and question is None and scope.filters_metadata:
            document_ids = self._newest(scope)
            if not document_ids:
                return iter([_nothing_admitted(scope)])
        elif document_ids is not None and scope.filters_metadata:
            self.retrieval.admitted(within(Scope(), document_ids))  # unknown ids are still a 404
            document_ids = admitted(within(scope, document_ids), self.view.catalog)
            if not document_ids:
                return iter([_nothing_admitted(scope)])
        elif question is not None and scope.filters_metadata:
            allowed = self.retrieval.admitted(scope)
            if allowed is not None and not allowed:
                return iter([_nothing_admitted(scope)])
        sources, passages, focus = self._summary_sources(document_ids, question, scope)
        if timeline:
            if not given:
                max_sentences = default_timeline_sentences(
                    sources, self.settings.max_summary_sentences)
            return iter([self._timeline(sources, max_sentences, max_words)])
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

        return verified_events(draft.stream, verify, fallback, texts, mode)

    def _extractive(self, sources: Sequence[Source], focus: np.ndarray | None,
                    max_sentences: int | None, max_words: int | None,
                    fallback_reason: str | None = None) -> Summary:
        sentences = summarize_offline(sources, self.embedder, max_sentences=max_sentences,
                                      max_words=max_words, focus=focus)
        summary = Summary(" ".join(s.text for s in sentences), sentences,
                          [s.article.id for s in sources], fallback_reason=fallback_reason)
        check_citations(summary, {s.article.id: s.article.text for s in sources})
        return summary

    def _timeline(self, sources: Sequence[Source], max_sentences: int | None,
                  max_words: int | None) -> Summary:
        sentences = timeline_offline(sources, self.embedder, max_sentences=max_sentences,
                                     max_words=max_words)
        text = "\n".join(f"{s.date or 'Undated'}: {s.text}" for s in sentences)
        summary = Summary(text, sentences, [s.article.id for s in sources], timeline=True)
        check_citations(summary, {s.article.id: s.article.text for s in sources})
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

    def _newest(self, scope: Scope) -> list[str]:
        """The newest articles the scope admits, as many as one summary takes."""
        ids = admitted(scope, self.view.catalog) or []
        ids.sort(key=lambda d: self.view.catalog[d].published or "", reverse=True)
        return ids[: self.settings.max_summary_documents]

    def _summary_sources(
        self, document_ids: Sequence[str] | None, question: str | None,
        scope: Scope | None = None,
    ) -> tuple[Sequence[Source], Sequence[Passage], np.ndarray | None]:
        """The articles to summarize, the passages an LLM reads, and the question's vector."""
        if (document_ids is None) == (question is None):
            raise InvalidInput("give either document ids or a question, not both or neither")
        if not self.view.catalog:
            raise StoreEmpty("the store holds no documents to summarize")
        if question is not None:
            question = self.retrieval.check_question(question)
            found = self.retrieval.retrieve(question, None, self.retrieval.admitted(scope or Scope()),
                                       RetrievalMode.HYBRID)
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
        unknown = [d for d in ids if d not in self.view.catalog]
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


def _nothing_admitted(scope: Scope) -> Summary:
    text = f"No stored article matches the filter ({scope.describe()})."
    return Summary(text, [], [])
