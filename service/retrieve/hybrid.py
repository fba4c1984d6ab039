"""Dense (Chroma) and lexical (BM25) retrieval, fused by a weighted sum of the cosine and the
chunk's share of the query's words, with a lexical weight set per query."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from service.chunk.chunker import document_of
from service.domain import CatalogEntry, Passage
from service.retrieve.lexical import LexicalIndex
from service.store import ChromaStore, StoredChunk

CANDIDATES = 40
# A filter that admits at least this share of the articles is searched densely as an
# unfiltered query for ids and distances alone, over-fetched by share and margin, filtered by
# the article each chunk id names, and only the chunks kept are read: Chroma's where costs
# about 0.035 ms per admitted id (10k chunks: 30 ms for 670 of 1,343 articles, 8 ms
# unfiltered), while an ids-only query of 1,024 costs 7 ms
# (eval/benchmarks/filter_latency.py). The chunks kept are those the filtered query returns
# whenever the over-fetch holds enough admitted ones; when it does not, the filtered query
# runs.
OVERFETCH_MIN_SHARE = 0.08
OVERFETCH_MARGIN = 1.5
MAX_OVERFETCH = 2048


@dataclass(frozen=True)
class Fusion:
    """The constants of the hybrid ranking, chosen by measurement (eval/retrieval.md,
    ``factdesk eval --compare-retrieval``).

    Why this rule: a fixed lexical weight helped where questions reuse the article's words (the
    seed set, SQuAD) and cost MRR on RGB, where the passages come in same-topic clusters whose
    negatives repeat the question's words (even a weight of 0.01 fell below dense-only there).
    How much the query's words can tell the leading candidates apart shows which case a query
    is in, so it sets the weight (`lexical_weight_for`); a chunk's lexical evidence is its
    ``LexicalIndex.coverage`` rather than its BM25 score, since term counts and length
    normalisation favoured the passages that repeat the question's words and did worse on all
    three sets. The goal (hybrid at least as good as the better single mode on every set) holds
    only near these values; eval/retrieval.md lists their neighbours.
    """

    # The lexical weight when no other leading candidate holds the query's words.
    ceiling: float = 0.6
    # A candidate holds the query's words when its coverage is at least this share of the best.
    holds: float = 0.4
    # How many of each list's first candidates are looked at (the default top_k); 0 makes the
    # weight the ceiling for every query.
    leading: int = 8


DEFAULT_FUSION = Fusion()


def lexical_weight_for(
    dense_ids: Sequence[str],
    lexical_ids: Sequence[str],
    coverage: Mapping[str, float],
    fusion: Fusion = DEFAULT_FUSION,
) -> float:
    """``ceiling * (1 - share of the leading candidates that hold the query's words)``.

    The leading candidates are the first ``fusion.leading`` of each list (once each). When they
    all hold the query's words (a cluster of passages on one topic), the words cannot tell
    them apart and the weight is 0; when only the best one does, it is nearly the ceiling.
    """
    best = max(coverage.values(), default=0.0)
    if best <= 0:
        return 0.0
    leading = list(dict.fromkeys([*dense_ids[: fusion.leading], *lexical_ids[: fusion.leading]]))
    if not leading:
        return fusion.ceiling
    holding = sum(coverage.get(cid, 0.0) >= fusion.holds * best for cid in leading)
    return fusion.ceiling * (1 - holding / len(leading))


def fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    lexical_weight: float = DEFAULT_FUSION.ceiling,
) -> dict[str, float]:
    """Fused score per chunk id: ``(1 - w) * cosine + w * lexical / best_lexical``.

    ``lexical`` is each chunk's lexical evidence (its coverage of the query in hybrid
    retrieval; BM25 scores in lexical-only retrieval), taken relative to the best of this
    query. A chunk with no cosine (found only lexically) gets the lowest cosine among the dense
    candidates (it ranked below all of them); a chunk with no lexical evidence gets no lexical
    part. Either list may be empty (dense-only or lexical-only retrieval). Ties keep the order
    of ``dense``, then of ``lexical``, when sorted stably.
    """
    floor = min((score for _, score in dense), default=0.0)
    best = max((score for _, score in lexical), default=0.0)
    fused = {cid: (1 - lexical_weight) * score for cid, score in dense}
    for cid, score in lexical:
        relative = score / best if best > 0 else 0.0
        fused[cid] = fused.get(cid, (1 - lexical_weight) * floor) + lexical_weight * relative
    return fused


class RetrievalMode(str, Enum):
    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


class HybridRetriever:
    def __init__(
        self,
        store: ChromaStore,
        lexical: LexicalIndex,
        embed_query: Callable[[str], np.ndarray],
        entry_of: Callable[[str], CatalogEntry | None],
        *,
        article_count: Callable[[], int] | None = None,
        fusion: Fusion = DEFAULT_FUSION,
        candidates: int = CANDIDATES,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embed_query = embed_query
        self.entry_of = entry_of  # the catalog's entry of an article (None: not stored)
        self.article_count = article_count  # how many articles are stored (None: unknown)
        self.fusion = fusion
        self.candidates = candidates

    def retrieve(
        self,
        question: str,
        k: int,
        document_ids: Sequence[str] | None = None,
        mode: RetrievalMode = RetrievalMode.HYBRID,
    ) -> list[Passage]:
        depth = max(self.candidates, k)
        if (document_ids is not None and self.article_count is not None
                and len(set(document_ids)) >= self.article_count()):
            document_ids = None  # a filter that admits every article filters nothing
        dense: list[tuple[StoredChunk, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode is not RetrievalMode.LEXICAL:
            found = self._nearest(self.embed_query(question), depth * 2, document_ids)
            dense = [(s, score) for s, score in found if self._is_current(s)][:depth]
        if mode is not RetrievalMode.DENSE:
            lexical = self.lexical.search(question, depth, document_ids)

        chunks = {s.chunk.id: s for s, _ in dense}
        missing = [cid for cid, _ in lexical if cid not in chunks]
        for stored in self.store.get_chunks(missing):
            if self._is_current(stored):
                chunks[stored.chunk.id] = stored
        dense_scores = {s.chunk.id: score for s, score in dense}
        lexical_scores = {cid: score for cid, score in lexical if cid in chunks}

        if mode is RetrievalMode.HYBRID:
            # Every candidate, dense ones first, gets its coverage as its lexical evidence.
            candidates = list(dict.fromkeys([*dense_scores, *lexical_scores]))
            coverage = self.lexical.coverage(question, candidates)
            weight = lexical_weight_for(list(dense_scores), list(lexical_scores), coverage,
                                        self.fusion)
            evidence = [(cid, coverage[cid]) for cid in candidates]
        else:  # one list alone keeps its own order and scores (cosine, or BM25 / best BM25)
            weight = 1.0 if mode is RetrievalMode.LEXICAL else 0.0
            evidence = list(lexical_scores.items())
        fused = fuse(list(dense_scores.items()), evidence, weight)

        best = sorted(fused, key=lambda cid: fused[cid], reverse=True)[:k]
        passages = []
        for cid in best:
            chunk = chunks[cid].chunk
            entry = self.entry_of(chunk.document_id) or CatalogEntry("", "")
            passages.append(Passage(
                chunk=chunk, title=entry.title, score=fused[cid],
                dense_score=dense_scores.get(cid), lexical_score=lexical_scores.get(cid),
                published=entry.published, source=entry.source, url=entry.url,
            ))
        return passages

    def _nearest(self, vector: np.ndarray, n: int, document_ids: Sequence[str] | None
                 ) -> list[tuple[StoredChunk, float]]:
        """The ``n`` chunks nearest ``vector`` among the articles ``document_ids`` (None:
        all), filtered inside Chroma's query, or over-fetched and filtered when the filter
        admits a large share of the articles (see OVERFETCH_MIN_SHARE)."""
        total = self.article_count() if self.article_count is not None else 0
        if document_ids is None or not total:
            return self.store.query(vector, n, document_ids)
        allowed = set(document_ids)
        share = len(allowed) / total
        kept: list[tuple[str, float]] | None = None
        if share >= OVERFETCH_MIN_SHARE:
            wide = min(MAX_OVERFETCH, math.ceil(n / share * OVERFETCH_MARGIN))
            found = self.store.nearest_ids(vector, wide)
            kept = [(cid, score) for cid, score in found if document_of(cid) in allowed][:n]
            if len(kept) < n and len(found) == wide:  # short, and more of the store unseen
                kept = None
        if kept is None:
            kept = self.store.nearest_ids(vector, n, document_ids)
        stored = {s.chunk.id: s for s in self.store.get_chunks([cid for cid, _ in kept])}
        return [(stored[cid], score) for cid, score in kept if cid in stored]

    def _is_current(self, stored: StoredChunk) -> bool:
        entry = self.entry_of(stored.chunk.document_id)
        return entry is not None and entry.version == stored.version
