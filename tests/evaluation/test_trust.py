"""Trust figures and failure classes on hand-built results, worked out by hand."""

import pytest

from service.evaluation import trust
from service.evaluation.failures import CLASSES, failure_breakdown, failure_class
from service.evaluation.results import CitationRecord, QuestionResult, QuestionScores


def result(confidence: float, *, answerable: bool = True, abstained: bool = False,
           right: bool = True, answer: str = "600", kind: str = "number",
           stale: tuple[str, ...] = (), expected: tuple[str, ...] = ("600",),
           exact: bool = True, supported: bool = True) -> QuestionResult:
    citation = CitationRecord("doc", "doc:0", 0, 3, answer, exact)
    return QuestionResult(
        id="q", question="How many?", type=kind, difficulty="easy", answerable=answerable,
        expected=list(expected) if answerable else [], quote=None, stale_answers=list(stale),
        answer="" if abstained else answer, abstained=abstained, confidence=confidence,
        citations=[] if abstained else [citation],
        scores=QuestionScores(contains_gold=right if answerable else None,
                              citation_support=supported if answerable else None))


def test_auroc_is_one_when_every_right_answer_is_more_confident() -> None:
    items = trust.judged([result(0.9), result(0.8), result(0.3, right=False),
                          result(0.6, answerable=False)])
    assert trust.auroc(items) == 1.0


def test_auroc_counts_pairs_and_ties_half() -> None:
    # right: 0.9, 0.5; not right: 0.5 (wrong), 0.7 (unanswerable answered).
    # pairs: (0.9>0.5) 1, (0.9>0.7) 1, (0.5=0.5) 0.5, (0.5<0.7) 0 -> 2.5 / 4
    items = trust.judged([result(0.9), result(0.5), result(0.5, right=False),
                          result(0.7, answerable=False)])
    assert trust.auroc(items) == 0.625


def test_an_abstention_is_judged_by_the_probability_left_for_its_answer() -> None:
    [item] = trust.judged([result(0.8, answerable=False, abstained=True)])
    assert item.probability == pytest.approx(0.2) and not item.right and not item.answered


def test_auroc_needs_both_outcomes() -> None:
    assert trust.auroc(trust.judged([result(0.9), result(0.2)])) is None


def test_precision_and_coverage() -> None:
    items = trust.judged([result(0.9), result(0.8, right=False), result(0.7),
                          result(0.9, answerable=False, abstained=True)])
    assert trust.answered_precision(items) == pytest.approx(2 / 3, abs=1e-4)
    assert trust.coverage(items) == 0.75


def test_calibration_error_is_the_weighted_gap_per_bin() -> None:
    # bin 0.9-1.0: two answers at 0.95, one right -> gap 0.45; bin 0.2-0.3: one at 0.25,
    # wrong -> gap 0.25. ECE = (2 * 0.45 + 1 * 0.25) / 3
    items = trust.judged([result(0.95), result(0.95, right=False),
                          result(0.25, right=False)])
    assert trust.expected_calibration_error(items) == pytest.approx(1.15 / 3, abs=1e-4)
    bins = [b for b in trust.reliability(items) if b.answers]
    assert [(b.low, b.answers, b.share_right) for b in bins] == [(0.2, 1, 0.0), (0.9, 2, 0.5)]


def test_a_confidence_of_one_falls_in_the_top_bin() -> None:
    bins = trust.reliability(trust.judged([result(1.0)]))
    assert bins[-1].answers == 1


def test_risk_coverage_takes_the_most_confident_first() -> None:
    items = trust.judged([result(0.2, right=False), result(0.9), result(0.6, right=False)])
    curve = trust.risk_coverage(items)
    assert curve == [(pytest.approx(1 / 3), 0.0), (pytest.approx(2 / 3), 0.5),
                     (1.0, pytest.approx(2 / 3))]
    assert trust.risk_coverage_area(items) == pytest.approx((0 + 0.5 + 2 / 3) / 3, abs=1e-4)


def test_failed_calls_are_left_out_of_the_trust_figures() -> None:
    failed = result(0.9)
    failed.error = "timeout"
    assert trust.judged([failed]) == []


@pytest.mark.parametrize(("case", "expected"), [
    (result(0.9), None),
    (result(0.9, answerable=False), "unanswerable_answered"),
    (result(0.1, answerable=False, abstained=True), None),
    (result(0.9, abstained=True), "wrongly_abstained"),
    (result(0.9, right=False, answer="300", stale=("300",)), "stale_figure"),
    (result(0.9, right=False, answer="Kim Jong Un"), "wrong_type"),
    (result(0.9, right=False, answer="2,000"), "wrong_entity"),
    (result(0.9, right=False, answer="Kim Jong Un", kind="person", expected=("Putin",)),
     "wrong_entity"),
    (result(0.9, right=False, answer="4,700", kind="person", expected=("Putin",)),
     "wrong_type"),
    (result(0.9, exact=False), "citation_not_exact"),
    (result(0.9, supported=False), "citation_unsupported"),
])
def test_failure_class(case: QuestionResult, expected: str | None) -> None:
    assert failure_class(case) == expected


def test_failure_breakdown_lists_every_class() -> None:
    counts = failure_breakdown([result(0.9, answerable=False), result(0.9, abstained=True),
                                result(0.9, answerable=False), result(0.9)])
    assert list(counts) == list(CLASSES)
    assert counts["unanswerable_answered"] == 2 and counts["wrongly_abstained"] == 1
    assert sum(counts.values()) == 3
