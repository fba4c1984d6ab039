"""Dense (Chroma) and lexical (BM25) retrieval, fused by a weighted sum of their scores."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

import numpy as np

from service.domain import Passage
from service.retrieve.lexical import LexicalIndex
from service.store import ChromaStore, StoredChunk

# Chosen by measurement (eval/retrieval.md, `factdesk eval --compare-retrieval`): a convex
# combination of the dense cosine and the BM25 score relative to the query's best one. Plain
# reciprocal-rank fusion lost to lexical-only on the seed set and to dense-only on RGB.
LEXICAL_WEIGHT = 0.2
CANDIDATES = 40


def fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    lexical_weight: float = LEXICAL_WEIGHT,
) -> dict[str, float]:
    """Fused score per chunk id: ``(1 - w) * cosine + w * bm25 / best_bm25``.

    The cosine is already on a fixed scale; BM25 is not, so it is taken relative to the best
    lexical hit of this query. A chunk found only lexically gets the lowest cosine among the
    dense candidates (it ranked below all of them); a chunk found only densely gets no
    lexical part. Either list may be empty (dense-only or lexical-only retrieval).
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
        current_version: Callable[[str], str | None],
        title_of: Callable[[str], str],
        *,
        lexical_weight: float = LEXICAL_WEIGHT,
        candidates: int = CANDIDATES,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embed_query = embed_query
        self.current_version = current_version
        self.title_of = title_of
        self.lexical_weight = lexical_weight
        self.candidates = candidates

    def retrieve(
        self,
        question: str,
        k: int,
        document_ids: Sequence[str] | None = None,
        mode: RetrievalMode = RetrievalMode.HYBRID,
    ) -> list[Passage]:
        depth = max(self.candidates, k)
        dense: list[tuple[StoredChunk, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode is not RetrievalMode.LEXICAL:
            found = self.store.query(self.embed_query(question), depth * 2, document_ids)
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

        fused = fuse([(s.chunk.id, score) for s, score in dense],
                     list(lexical_scores.items()), self.lexical_weight)

        best = sorted(fused, key=lambda cid: fused[cid], reverse=True)[:k]
        return [
            Passage(
                chunk=chunks[cid].chunk,
                title=self.title_of(chunks[cid].chunk.document_id),
                score=fused[cid],
                dense_score=dense_scores.get(cid),
                lexical_score=lexical_scores.get(cid),
            )
            for cid in best
        ]

    def _is_current(self, stored: StoredChunk) -> bool:
        return self.current_version(stored.chunk.document_id) == stored.version
