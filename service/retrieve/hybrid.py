"""Dense (Chroma) and lexical (BM25) retrieval, fused by weighted reciprocal rank."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

import numpy as np

from service.domain import Passage
from service.retrieve.lexical import LexicalIndex
from service.store import ChromaStore, StoredChunk

RRF_K = 60


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
        dense_weight: float = 1.0,
        lexical_weight: float = 1.0,
        candidates: int = 40,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embed_query = embed_query
        self.current_version = current_version
        self.title_of = title_of
        self.dense_weight = dense_weight
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

        fused: dict[str, float] = {}
        for rank, (stored, _) in enumerate(dense):
            fused[stored.chunk.id] = self.dense_weight / (RRF_K + rank + 1)
        for rank, cid in enumerate(lexical_scores):
            fused[cid] = fused.get(cid, 0.0) + self.lexical_weight / (RRF_K + rank + 1)

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
