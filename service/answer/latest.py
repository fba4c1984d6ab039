"""The latest figure: when the evidence gives different values from different dates, the
newest answers and the older ones are cited as superseded.

A story is reported again as it develops (1,200 homes evacuated on 14 October, 3,450 on the
17th), and an article repeats older figures beside its own ("In January, the NIS estimated
300 deaths"). The reader may prefer any of them; the answer should be the newest. Rivals of
the reader's chosen span are the other spans the answerability model finds nearly as likely
right (at least ``RIVAL_SHARE`` of its probability, and the answering threshold), of the same
shape (a number for a number), with a different value. Each is dated by its statement
(``dating.py``), else by its article. The newest dated one answers, with its own probability;
the older values are listed as superseded, one citation per value.

A question that names its own time ("in 2024", "in January") or asks for a date is answered
as the reader chose: it already says which time it means.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from service.answer.answerability import Candidate, type_fit
from service.answer.question import AnswerType, Question
from service.dating import statement_date
from service.domain import Passage
from service.reader import ReaderSpan
from service.retrieve.terms import lexical_terms

# Measured on the seed and updates sets (factdesk eval seed updates): 0.5 and 0.6 leave the
# seed figures as they were and answer 3 of 5 "latest" questions (2 without this step); 0.4
# answers 4 but costs the seed 3 right answers (contains 0.771 -> 0.740).
RIVAL_SHARE = 0.5
MAX_SUPERSEDED = 3

_NAMES_TIME = re.compile(
    r"\b(?:(?:19|20)\d\d|January|February|March|April|June|July|August|September|October|"
    r"November|December|yesterday|today|last (?:week|month|year)|this (?:week|month|year))\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Dated:
    span: ReaderSpan
    probability: float
    date: str | None  # the statement's date, else its article's


@dataclass(frozen=True)
class Latest:
    span: ReaderSpan
    probability: float
    superseded: list[Dated] = field(default_factory=list)  # older values, newest first


def newest_figure(question: Question, best: ReaderSpan, probability: float,
                  scored: Sequence[tuple[float, Candidate]], passages: Sequence[Passage],
                  texts: dict[str, str], threshold: float) -> Latest:
    """The span that answers with the newest value, and the older values it supersedes."""
    if question.answer_type is AnswerType.DATE or _NAMES_TIME.search(question.text):
        return Latest(best, probability)
    shape = type_fit(question.answer_type, best.text)
    floor = max(threshold, RIVAL_SHARE * probability)
    chosen = _dated(best, probability, passages, texts)
    values: list[Dated] = [chosen]
    for p, candidate in sorted(scored, key=lambda item: -item[0]):
        span = candidate.span
        if p < floor or type_fit(question.answer_type, span.text) != shape:
            continue
        if any(_same_value(span, seen.span) for seen in values):
            continue
        values.append(_dated(span, p, passages, texts))
    if len(values) == 1:
        return Latest(best, probability)
    dated = [(v.date, v) for v in values if v.date is not None]
    if chosen.date is None or not dated:
        return Latest(best, probability)
    newest_date, newest = max(dated, key=lambda d: (d[0], d[1] is chosen, d[1].probability))
    older = sorted(((day, v) for day, v in dated if v is not newest and day < newest_date),
                   key=lambda d: d[0], reverse=True)
    return Latest(newest.span, newest.probability, [v for _, v in older[:MAX_SUPERSEDED]])


def _dated(span: ReaderSpan, probability: float, passages: Sequence[Passage],
           texts: dict[str, str]) -> Dated:
    published = passages[span.passage].published
    stated = statement_date(texts[span.document_id], span.start, span.end, published)
    return Dated(span, probability, stated or published)


def _same_value(a: ReaderSpan, b: ReaderSpan) -> bool:
    """The same place, or the same words (one span holding the other's)."""
    if a.document_id == b.document_id and a.start < b.end and b.start < a.end:
        return True
    x, y = " ".join(lexical_terms(a.text)), " ".join(lexical_terms(b.text))
    return bool(x) and bool(y) and (x in y or y in x)
