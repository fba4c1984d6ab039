"""Can an answer's confidence be trusted? Ranking, calibration and risk against coverage.

Every reply carries ``confidence``: for an answer, the probability that it is right; for an
abstention, the probability that the articles do not say, so ``1 - confidence`` is what the
answerer gave its best span. Each question is judged as (that probability, was a right
answer given), where a right answer is one to an answerable question that contains a gold
answer; an abstention is never a right answer.

- ``auroc``: how often a right answer got a higher probability than a wrong reply (or an
  abstention), over all questions; 0.5 is chance.
- ``expected_calibration_error``: over the answers given, how far the stated confidence is
  from the share right, averaged over equal-width bins weighted by their size.
- ``risk_coverage``: answering only the most confident share of questions, how many of those
  answers are wrong; its area (lower is better) sums up the whole curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.evaluation.results import QuestionResult

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Judged:
    probability: float  # that the answerer's best answer is right
    right: bool  # a right answer was given
    answered: bool


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    answers: int
    mean_confidence: float | None
    share_right: float | None


def judged(results: Sequence[QuestionResult]) -> list[Judged]:
    """The questions whose call succeeded, as (probability, right, answered)."""
    return [
        Judged(
            probability=result.confidence if not result.abstained else 1 - result.confidence,
            right=_right(result),
            answered=not result.abstained,
        )
        for result in results if result.error is None
    ]


def _right(result: QuestionResult) -> bool:
    return (result.answerable and not result.abstained
            and bool(result.scores.contains_gold))


def answered_precision(items: Sequence[Judged]) -> float | None:
    answered = [item.right for item in items if item.answered]
    return round(sum(answered) / len(answered), 4) if answered else None


def coverage(items: Sequence[Judged]) -> float | None:
    return round(sum(item.answered for item in items) / len(items), 4) if items else None


def auroc(items: Sequence[Judged]) -> float | None:
    """The Mann-Whitney statistic of probability between right and not-right replies."""
    ordered = sorted(items, key=lambda item: item.probability)
    positives = sum(item.right for item in ordered)
    negatives = len(ordered) - positives
    if not positives or not negatives:
        return None
    rank_sum, position = 0.0, 0
    while position < len(ordered):  # average ranks over ties
        end = position
        while end < len(ordered) and ordered[end].probability == ordered[position].probability:
            end += 1
        average_rank = (position + 1 + end) / 2
        rank_sum += average_rank * sum(item.right for item in ordered[position:end])
        position = end
    wins = rank_sum - positives * (positives + 1) / 2
    return round(wins / (positives * negatives), 4)


def reliability(items: Sequence[Judged], bins: int = CALIBRATION_BINS) -> list[ReliabilityBin]:
    """The answers given, in equal-width confidence bins."""
    answered = [item for item in items if item.answered]
    table = []
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        inside = [item for item in answered
                  if low <= item.probability < high or index == bins - 1
                  and item.probability == high]
        table.append(ReliabilityBin(
            low=low, high=high, answers=len(inside),
            mean_confidence=(round(sum(i.probability for i in inside) / len(inside), 4)
                             if inside else None),
            share_right=round(sum(i.right for i in inside) / len(inside), 4) if inside else None,
        ))
    return table


def expected_calibration_error(items: Sequence[Judged],
                               bins: int = CALIBRATION_BINS) -> float | None:
    table = reliability(items, bins)
    total = sum(b.answers for b in table)
    if not total:
        return None
    gap = sum(b.answers * abs((b.mean_confidence or 0.0) - (b.share_right or 0.0))
              for b in table)
    return round(gap / total, 4)


def risk_coverage(items: Sequence[Judged]) -> list[tuple[float, float]]:
    """(coverage, risk) answering the k most confident questions, for k = 1 .. n."""
    ordered = sorted(items, key=lambda item: -item.probability)
    curve, wrong = [], 0
    for k, item in enumerate(ordered, start=1):
        wrong += not item.right
        curve.append((k / len(ordered), wrong / k))
    return curve


def risk_coverage_area(items: Sequence[Judged]) -> float | None:
    """The mean risk over all coverages (the area under the risk-coverage curve)."""
    curve = risk_coverage(items)
    return round(sum(risk for _, risk in curve) / len(curve), 4) if curve else None
