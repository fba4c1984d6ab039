"""Summaries whose every sentence cites its span: extractive offline, LLM-written when asked."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.domain import AnswerSentence
from service.embed.base import SENTENCE_EMBED_CHARS
from service.summarize.extractive import select_sentences
from service.summarize.sources import Source, make_source
from service.verify.citations import Embedder


def summarize_offline(
    sources: Sequence[Source],
    embedder: Embedder,
    *,
    max_sentences: int | None,
    max_words: int | None,
    focus: np.ndarray | None = None,
) -> list[AnswerSentence]:
    """The extractive summary of ``sources``, one cited sentence of an article each."""
    vectors = [
        np.asarray(embedder.embed([s.text[:SENTENCE_EMBED_CHARS] for s in source.sentences]))
        if source.sentences else np.zeros((0, 0))
        for source in sources
    ]
    picked = select_sentences([s.sentences for s in sources], vectors,
                              max_sentences=max_sentences, max_words=max_words, focus=focus)
    by_id = {source.article.id: source for source in sources}
    return [
        AnswerSentence(
            p.sentence.text,
            tuple(by_id[s.document_id].citation(s) for s in (p.sentence, *p.echoes)),
            True,
        )
        for p in picked
    ]


__all__ = ["Source", "make_source", "summarize_offline"]
