"""The offline answerer: the trained reader reads the retrieved passages; the best span is the
answer, cited with the sentence (or sentences) it stands in, unless the reader's no-answer
score comes too close to it, and then factdesk says the articles do not say.

The margin (span score minus the passage's no-answer score) that answering needs was
calibrated on held-out questions of the reader's training data (``model/calibration.json``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from service.domain import Answer, Citation, Passage
from service.reader import Reader, ReaderPassage, ReaderSpan
from service.sentences import sentence_spans

ABSTENTION = "The stored articles do not say."


def answer_offline(
    question: str,
    passages: Sequence[Passage],
    texts: dict[str, str],
    reader: Reader,
    min_margin: float | None = None,
    rank_weight: float = 0.0,
    read: int | None = None,
) -> Answer:
    """Answer from ``passages`` (chunks of the articles in ``texts``, best-ranked first) with
    the reader, which reads the first ``read`` of them (all when None); the answer lists them
    all. A span is chosen by its margin over its own passage's no-answer score (span scores of
    different passages are not on one scale; the margin is), less ``rank_weight`` for each
    place its passage stands below the first."""
    if min_margin is None:
        min_margin = reader.null_margin
    reading = reader.read(
        question,
        [ReaderPassage(p.chunk.document_id, p.chunk.start, p.chunk.end, p.chunk.text)
         for p in passages[:read]],
        texts,
    )
    if not reading.spans:
        return _abstain(passages, 0.0)
    best = max(reading.spans,
               key=lambda s: s.score - reading.null_scores[s.passage] - rank_weight * s.passage)
    margin = best.score - reading.null_scores[best.passage]
    confidence = round(1 / (1 + math.exp(-(margin - min_margin))), 3)
    if margin < min_margin:
        return _abstain(passages, confidence)
    passage = passages[best.passage]
    return Answer(
        answer=best.text,
        abstained=False,
        confidence=confidence,
        citations=[_cite_sentences(best, passage, texts[best.document_id])],
        passages=list(passages),
    )


def _cite_sentences(span: ReaderSpan, passage: Passage, text: str) -> Citation:
    """The sentences of the article that hold the span, whole."""
    start, end = span.start, span.end
    for a, b in sentence_spans(text, _line_start(text, span.start), _line_end(text, span.end)):
        if a <= span.start < b:
            start = min(start, a)
        if a < span.end <= b:
            end = max(end, b)
    quote = text[start:end].rstrip()
    return Citation(span.document_id, passage.title, passage.chunk.id, start,
                    start + len(quote), quote)


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _abstain(passages: Sequence[Passage], confidence: float) -> Answer:
    return Answer(answer=ABSTENTION, abstained=True, confidence=confidence, citations=[],
                  passages=list(passages))
