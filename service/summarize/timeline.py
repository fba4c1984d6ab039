"""Timelines: a story's articles as cited sentences in date order.

Each article is a development. Its best sentences are picked as the extractive summary picks
them (every article's best sentence first, a statement two articles make said once and cited
from both, the oldest article's wording kept). Each sentence is dated by its article's
``published``, or earlier where the text dates its statement earlier ("In January, the NIS
estimated ..."). Sentences are shown oldest first, those of one date in article order; an
undated article's sentences come last, with no date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from service.dating import statement_date
from service.domain import AnswerSentence
from service.summarize import Source, summarize_offline
from service.verify.citations import Embedder

SENTENCES_PER_ARTICLE = 2  # when no limit is given


def default_timeline_sentences(sources: Sequence[Source], most: int) -> int:
    """How many sentences a timeline of ``sources`` shows when the request sets no limit."""
    return max(1, min(most, SENTENCES_PER_ARTICLE * len(sources)))


def timeline_offline(sources: Sequence[Source], embedder: Embedder, *,
                     max_sentences: int | None, max_words: int | None) -> list[AnswerSentence]:
    """The dated sentences of ``sources`` in date order, each citing its span."""
    ordered = sorted(sources, key=lambda s: (s.article.published is None,
                                             s.article.published or ""))
    texts = {s.article.id: s.article.text for s in ordered}
    dated = []
    for sentence in summarize_offline(ordered, embedder, max_sentences=max_sentences,
                                      max_words=max_words):
        first = sentence.citations[0]
        stated = statement_date(texts[first.document_id], first.start, first.end,
                                first.published)
        if stated is None:
            dated.append(replace(sentence, date=first.published))
            continue
        cited = (replace(first, stated=stated), *sentence.citations[1:])
        dated.append(replace(sentence, citations=cited, date=stated))
    dated.sort(key=lambda s: (s.date is None, s.date or ""))  # stable: article order kept
    return dated
