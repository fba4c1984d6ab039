"""Scoring rules of the eval, on small hand-made inputs (no model, no store)."""

import pytest

from service.domain import Citation
from service.evaluation.gate import check_gate
from service.evaluation.metrics import (
    RetrievedSpan,
    citation_is_exact,
    citation_supports,
    contains_gold,
    exact_match,
    hit_at,
    normalize_answer,
    quote_span,
    reciprocal_rank,
    score_answer,
    supporting_rank,
    token_f1,
)
from service.evaluation.results import QuestionResult, QuestionScores
from service.evaluation.summary import percentile, summarise

TEXT = "Intro line.\nNorth Korea has suffered 4,700 casualties, including 600 deaths, in Ukraine."
QUOTE = "including 600 deaths"


def cite(start: int, end: int, document_id: str = "doc", text: str = TEXT) -> Citation:
    return Citation(document_id, "", f"{document_id}:v:0", start, end, text[start:end])


# ---- answers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("The  Kursk region!", "kursk region"),
        ("an apple, a pear", "apple pear"),
        ("South Korea’s “spy” agency — NIS", "south koreas spy agency nis"),
        ("4,700", "4700"),
        ("Theatre", "theatre"),  # only whole words are articles
    ],
)
def test_normalize_answer(raw: str, normalised: str) -> None:
    assert normalize_answer(raw) == normalised


def test_exact_match_ignores_case_punctuation_and_articles() -> None:
    assert exact_match("the Kursk Region.", "Kursk region")
    assert not exact_match("Kursk", "Kursk region")


def test_token_f1_counts_shared_tokens() -> None:
    # prediction: kursk region russia (3), gold: kursk region (2), shared 2
    assert token_f1("the Kursk region, Russia", "Kursk region") == pytest.approx(0.8)
    assert token_f1("Moscow", "Kursk region") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("", "Kursk") == 0.0


def test_contains_gold_matches_whole_tokens_only() -> None:
    assert contains_gold("about 600 deaths were reported", ["600"])
    assert contains_gold("The National Intelligence Service", ["NIS", "intelligence service"])
    assert not contains_gold("in 2024", ["2"])
    assert not contains_gold("anything", [])


def test_answerable_scores_take_the_best_alias() -> None:
    scores = score_answer("600 deaths", False, ["600", "600 deaths"], answerable=True)
    assert (scores.em, scores.f1, scores.contains_gold) == (1.0, 1.0, True)


def test_abstaining_on_an_answerable_question_scores_zero() -> None:
    scores = score_answer("The stored articles do not say.", True, ["600"], answerable=True)
    assert (scores.em, scores.f1, scores.contains_gold) == (0.0, 0.0, False)


def test_unanswerable_question_is_right_only_when_abstained() -> None:
    abstained = score_answer("The stored articles do not say.", True, [], answerable=False)
    answered = score_answer("600", False, [], answerable=False)
    assert (abstained.em, abstained.f1) == (1.0, 1.0)
    assert (answered.em, answered.f1) == (0.0, 0.0)
    assert abstained.contains_gold is None


def test_answerable_question_needs_gold_answers() -> None:
    with pytest.raises(ValueError):
        score_answer("x", False, [], answerable=True)


# ---- citations -----------------------------------------------------------------------------


def test_quote_span_finds_the_quote_in_the_stored_text() -> None:
    span = quote_span(TEXT, QUOTE)
    assert span is not None and TEXT[span[0] : span[1]] == QUOTE
    assert quote_span(TEXT, "not in the article") is None


def test_citation_is_exact_compares_with_the_stored_text() -> None:
    good = cite(12, 40)
    assert citation_is_exact(good, TEXT)
    shifted = Citation("doc", "", "doc:v:0", good.start + 1, good.end + 1, good.quote)
    assert not citation_is_exact(shifted, TEXT)


def test_citation_supports_when_it_overlaps_the_quote() -> None:
    span = quote_span(TEXT, QUOTE)
    start = TEXT.index("casualties")
    assert citation_supports([cite(start, start + 25)], "doc", span, ["nothing alike"])


def test_citation_supports_when_it_quotes_a_gold_alias() -> None:
    start = TEXT.index("North")
    citation = cite(start, start + len("North Korea has suffered 4,700"))
    # Disjoint from the supporting quote, but quotes the alias.
    assert citation_supports([citation], "doc", quote_span(TEXT, QUOTE), ["4,700"])


def test_citation_does_not_support_when_off_the_quote_and_without_the_answer() -> None:
    intro = cite(0, 11)
    assert not citation_supports([intro], "doc", quote_span(TEXT, QUOTE), ["600"])
    assert not citation_supports([], "doc", quote_span(TEXT, QUOTE), ["600"])


def test_citation_of_another_article_does_not_support() -> None:
    other = "600 deaths elsewhere"
    foreign = cite(0, len(other), "other", other)
    assert not citation_supports([foreign], "doc", quote_span(TEXT, QUOTE), ["600"])


# ---- retrieval -----------------------------------------------------------------------------


def test_supporting_rank_is_the_first_passage_holding_the_whole_quote() -> None:
    span = quote_span(TEXT, QUOTE)
    assert span is not None
    passages = [
        RetrievedSpan("other:v:0", "other", 0, 500),  # right offsets, wrong article
        RetrievedSpan("doc:v:0", "doc", 0, span[0] + 5),  # holds only part of the quote
        RetrievedSpan("doc:v:1", "doc", span[0] - 10, span[1]),
        RetrievedSpan("doc:v:2", "doc", 0, len(TEXT)),
    ]
    assert supporting_rank(passages, "doc", span) == 3
    assert supporting_rank(passages[:2], "doc", span) is None


def test_recall_and_reciprocal_rank() -> None:
    assert hit_at(1, 1) and hit_at(5, 5) and not hit_at(6, 5) and not hit_at(None, 5)
    assert reciprocal_rank(4) == 0.25
    assert reciprocal_rank(11) == 0.0
    assert reciprocal_rank(None) == 0.0


# ---- aggregates and gate -------------------------------------------------------------------


def result(answerable: bool, abstained: bool, error: str | None = None,
           **scores: object) -> QuestionResult:
    return QuestionResult(
        id="q", question="?", type="number", difficulty="easy", answerable=answerable,
        expected=["1"] if answerable else [], quote=None, abstained=abstained,
        latency_ms=10.0, error=error, scores=QuestionScores(**scores),  # type: ignore[arg-type]
    )


def test_summary_abstention_rates() -> None:
    results = [
        result(True, False, em=1.0, f1=1.0, contains_gold=True),
        result(True, True, contains_gold=False),  # wrongly abstained
        result(False, True, em=1.0, f1=1.0, abstained_correctly=True),
        result(False, False, abstained_correctly=False),  # answered an unanswerable one
        result(False, False, error="Timeout", abstained_correctly=False),
    ]
    summary = summarise(results)
    assert summary.errors == 1
    assert summary.contains_gold == 0.5
    assert summary.abstention_precision == 0.5
    assert summary.abstention_recall == pytest.approx(1 / 3, abs=1e-4)
    assert summary.answered_unanswerable_rate == pytest.approx(1 / 3, abs=1e-4)
    assert summary.wrongly_abstained_rate == 0.5
    assert summary.squad_em == 0.4


def test_percentile_interpolates() -> None:
    assert percentile([10, 20, 30, 40], 50) == 25.0
    assert percentile([1.0], 95) == 1.0
    assert percentile([], 50) is None


def test_gate_lists_metrics_past_their_thresholds() -> None:
    summary = {"contains_gold": 0.4, "citation_exact": 1.0, "wrongly_abstained_rate": 0.3,
               "abstention_recall": None}
    thresholds = {"contains_gold": 0.5, "citation_exact": 1.0,
                  "wrongly_abstained_rate_max": 0.2, "abstention_recall": 0.0}
    failed = {f.metric for f in check_gate(summary, thresholds)}
    assert failed == {"contains_gold", "wrongly_abstained_rate", "abstention_recall"}
