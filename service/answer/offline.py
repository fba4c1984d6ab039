"""The offline answerer: the trained reader reads the retrieved passages, every span it finds
is scored by the answerability model (``answerability.py``) with the probability that it is a
right answer, and the most probable one is the answer, cited with the sentence (or sentences)
it stands in. When even that one is less probable than the threshold, factdesk says the
articles do not say.

Without an answerability model beside the reader, the span with the best margin over its
passage's no-answer score answers, when that margin reaches the one calibrated with the reader
(``model/calibration.json``), with the margin's sigmoid as its confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from service.answer.answerability import AnswerabilityModel, PassageEvidence, candidates
from service.answer.latest import newest_figure
from service.answer.question import analyse_question
from service.dating import statement_date
from service.domain import Answer, Citation, Passage
from service.reader import Reader, ReaderPassage, ReaderSpan
from service.reader.reader import Reading
from service.sentences import enclosing_sentences

ABSTENTION = "The stored articles do not say."
ANSWERABILITY_FILE = "answerability.json"


@lru_cache(maxsize=4)
def answerability_model(model_dir: Path) -> AnswerabilityModel | None:
    """The answerability model fitted for the reader in ``model_dir``, if there is one."""
    return AnswerabilityModel.load(model_dir / ANSWERABILITY_FILE)


class OfflineAnswerer(Protocol):
    """Another offline answerer in the reader's place (a baseline the eval tooling compares
    with): the retrieved passages and their articles' texts in, an ``Answer`` out."""

    def __call__(self, question: str, passages: Sequence[Passage],
                 texts: dict[str, str]) -> Answer: ...


def answer_offline(
    question: str,
    passages: Sequence[Passage],
    texts: dict[str, str],
    reader: Reader,
    min_margin: float | None = None,
    rank_weight: float = 0.0,
    read: int | None = None,
    min_confidence: float | None = None,
    model: AnswerabilityModel | None | bool = True,
) -> Answer:
    """Answer from ``passages`` (chunks of the articles in ``texts``, best-ranked first) with
    the reader, which reads the first ``read`` of them (all when None); the answer lists them
    all. The span is chosen by its margin (``_by_margin``). ``model`` True judges it with the
    reader's answerability model (when it has one): ``min_confidence`` (default: the model's
    threshold) is the probability of being right that answering needs. Without a model (None
    or False), the margin must reach ``min_margin``."""
    chosen = list(passages[:read])
    reading = reader.read(
        question,
        [ReaderPassage(p.chunk.document_id, p.chunk.start, p.chunk.end, p.chunk.text)
         for p in chosen],
        texts,
    )
    if model is True:
        model = answerability_model(reader.model_dir)
    if not reading.spans:
        return _abstain(passages, 1.0)
    if model:
        evidence = [PassageEvidence(p.chunk.text, p.chunk.start, texts[p.chunk.document_id],
                                    p.dense_score) for p in chosen]
        asked = analyse_question(question)
        found = candidates(asked, reading, evidence)
        scored = [(model.confidence(model.span_score(c.features)), c) for c in found]
        best = _by_margin(reading, rank_weight)
        probability = next(p for p, c in scored if c.span is best)
        threshold = model.threshold if min_confidence is None else min_confidence
        if probability < threshold:
            return _abstain(passages, round(1 - probability, 3))
        latest = newest_figure(asked, best, probability, scored, passages, texts, threshold)
        answer = _answer(latest.span, passages, texts, round(latest.probability, 3))
        superseded = [_cite_sentences(r.span, passages[r.span.passage], texts[r.span.document_id])
                      for r in latest.superseded]
        return replace(answer, supersedes=superseded)
    if min_margin is None:
        min_margin = reader.null_margin
    best = _by_margin(reading, rank_weight)
    margin = best.score - reading.null_scores[best.passage]
    confidence = round(1 / (1 + math.exp(-(margin - min_margin))), 3)
    if margin < min_margin:
        return _abstain(passages, round(1 - confidence, 3))
    return _answer(best, passages, texts, confidence)


def _by_margin(reading: Reading, rank_weight: float) -> ReaderSpan:
    """The span with the best margin over its own passage's no-answer score (span scores of
    different passages are not on one scale; the margin is), less ``rank_weight`` for each
    place its passage stands below the first."""
    return max(reading.spans,
               key=lambda s: s.score - reading.null_scores[s.passage] - rank_weight * s.passage)


def _answer(best: ReaderSpan, passages: Sequence[Passage], texts: dict[str, str],
            confidence: float) -> Answer:
    passage = passages[best.passage]
    return Answer(
        answer=best.text,
        abstained=False,
        confidence=confidence,
        citations=[_cite_sentences(best, passage, texts[best.document_id])],
        passages=list(passages),
    )


def _cite_sentences(span: ReaderSpan, passage: Passage, text: str) -> Citation:
    """The sentences of the article that hold the span, whole, with the date the text gives
    the statement when it is earlier than the article's (``dating.py``)."""
    start, end = enclosing_sentences(text, span.start, span.end)
    quote = text[start:end].rstrip()
    stated = statement_date(text, span.start, span.end, passage.published)
    return replace(Citation.in_passage(passage, start, start + len(quote), quote),
                   stated=stated)


def _abstain(passages: Sequence[Passage], confidence: float) -> Answer:
    """An abstention; its ``confidence`` is the probability that the articles do not say."""
    return Answer(answer=ABSTENTION, abstained=True, confidence=confidence, citations=[],
                  passages=list(passages))
