"""Aggregate scores over a set of question results (the whole set, or one type or difficulty).

A metric is None when nothing in the set measures it (e.g. no unanswerable questions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from service.evaluation import trust
from service.evaluation.results import QuestionResult


@dataclass
class Summary:
    questions: int
    answerable: int
    unanswerable: int
    errors: int
    # Answerable questions only; a failed call counts as wrong.
    em: float | None
    f1: float | None
    contains_gold: float | None
    citation_support: float | None
    # SQuAD 2.0 style over every question (an abstention is right on unanswerable ones).
    squad_em: float | None
    squad_f1: float | None
    citations: int
    citation_exact: float | None  # share of all citations that match the stored text
    quotes_not_found: int  # supporting quotes missing from the stored text (no rank)
    recall_at_1: float | None
    recall_at_5: float | None
    recall_at_k: float | None
    mrr_at_10: float | None
    abstention_precision: float | None  # abstentions that were on unanswerable questions
    abstention_recall: float | None  # unanswerable questions abstained on
    answered_unanswerable_rate: float | None
    wrongly_abstained_rate: float | None
    # Trust in the confidence (service/evaluation/trust.py): answers given that are right,
    # the share of questions answered, how well confidence ranks right answers over the rest,
    # its calibration error, and the area under the risk-coverage curve.
    answered_precision: float | None
    coverage: float | None
    confidence_auroc: float | None
    confidence_ece: float | None
    risk_coverage_area: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None


def summarise(results: Sequence[QuestionResult]) -> Summary:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ok = [r for r in results if r.error is None]
    exact_flags = [c.exact for r in ok for c in r.citations]
    abstentions = [r for r in ok if r.abstained]
    latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
    judged = trust.judged(results)
    return Summary(
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        errors=len(results) - len(ok),
        em=mean([r.scores.em for r in answerable]),
        f1=mean([r.scores.f1 for r in answerable]),
        contains_gold=mean([r.scores.contains_gold for r in answerable]),
        citation_support=mean([r.scores.citation_support for r in answerable]),
        squad_em=mean([r.scores.em for r in results]),
        squad_f1=mean([r.scores.f1 for r in results]),
        citations=len(exact_flags),
        citation_exact=mean(exact_flags),
        quotes_not_found=sum(r.scores.quote_found is False for r in answerable),
        recall_at_1=mean([r.scores.recall_at_1 for r in answerable]),
        recall_at_5=mean([r.scores.recall_at_5 for r in answerable]),
        recall_at_k=mean([r.scores.recall_at_k for r in answerable]),
        mrr_at_10=mean([r.scores.reciprocal_rank for r in answerable]),
        abstention_precision=mean([not r.answerable for r in abstentions]),
        abstention_recall=mean([r.scores.abstained_correctly for r in unanswerable]),
        answered_unanswerable_rate=mean(
            [r.error is None and not r.abstained for r in unanswerable]
        ),
        wrongly_abstained_rate=mean([r.error is None and r.abstained for r in answerable]),
        answered_precision=trust.answered_precision(judged),
        coverage=trust.coverage(judged),
        confidence_auroc=trust.auroc(judged),
        confidence_ece=trust.expected_calibration_error(judged),
        risk_coverage_area=trust.risk_coverage_area(judged),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
    )


def summarise_by(
    results: Sequence[QuestionResult], key: Callable[[QuestionResult], str]
) -> dict[str, Summary]:
    groups: dict[str, list[QuestionResult]] = {}
    for result in results:
        groups.setdefault(key(result), []).append(result)
    return {name: summarise(groups[name]) for name in sorted(groups)}


def mean(values: Sequence[float | bool | None]) -> float | None:
    """The mean of the measured values (None entries are not measured)."""
    measured = [float(v) for v in values if v is not None]
    return round(sum(measured) / len(measured), 4) if measured else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks, as numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)
