"""Why a question failed, in the classes a user meets.

- ``unanswerable_answered``: the articles do not say, and an answer was given anyway;
- ``wrongly_abstained``: the articles say, and the answerer abstained;
- ``stale_figure``: the answer is a value the articles give for an earlier time (the
  question's ``stale_answers`` in the dataset);
- ``wrong_type``: the answer has the wrong shape (a name where a number was asked, no date
  where a date was asked);
- ``wrong_entity``: an answer of the right shape about something else;
- ``citation_not_exact``, ``citation_unsupported`` and ``error`` for the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from service.answer.answerability import type_fit
from service.answer.question import AnswerType
from service.evaluation.metrics import contains_gold
from service.evaluation.results import QuestionResult

CLASSES = (
    "unanswerable_answered", "wrongly_abstained", "stale_figure", "wrong_type",
    "wrong_entity", "citation_not_exact", "citation_unsupported", "error",
)
# Dataset types the answer's shape can be checked against.
_SHAPES = {kind.value: kind for kind in AnswerType}


def failure_class(result: QuestionResult) -> str | None:
    """The class of the question's failure, or None when it was answered right."""
    if result.error:
        return "error"
    if any(not c.exact for c in result.citations):
        return "citation_not_exact"
    if not result.answerable:
        return None if result.abstained else "unanswerable_answered"
    if result.abstained:
        return "wrongly_abstained"
    if not result.scores.contains_gold:
        if result.stale_answers and contains_gold(result.answer, result.stale_answers):
            return "stale_figure"
        shape = _SHAPES.get(result.type)
        if shape is not None and type_fit(shape, result.answer)[1]:
            return "wrong_type"
        return "wrong_entity"
    if not result.scores.citation_support:
        return "citation_unsupported"
    return None


def failure_breakdown(results: Sequence[QuestionResult]) -> dict[str, int]:
    """How many questions failed in each class (every class listed, in CLASSES order)."""
    counts = Counter(failure_class(result) for result in results)
    return {name: counts.get(name, 0) for name in CLASSES}
