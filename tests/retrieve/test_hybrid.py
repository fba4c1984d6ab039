"""The hybrid fusion: the per-query lexical weight, the fused ranking it gives, and the real
retriever scoring by that rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pytest

from service.domain import Passage
from service.retrieve import RetrievalMode
from service.retrieve.hybrid import DEFAULT_FUSION, Fusion, fuse, lexical_weight_for
from tests.conftest import make_settings

if TYPE_CHECKING:
    from service.desk import Factdesk

FUSION = Fusion(ceiling=0.5, holds=0.4, leading=8)


def hybrid_ranking(
    dense: Sequence[tuple[str, float]],
    lexical_ids: Sequence[str],
    coverage: Mapping[str, float],
    fusion: Fusion = FUSION,
) -> list[str]:
    """What the retriever does with its two lists, on made-up scores."""
    dense_ids = [cid for cid, _ in dense]
    weight = lexical_weight_for(dense_ids, lexical_ids, coverage, fusion)
    candidates = list(dict.fromkeys([*dense_ids, *lexical_ids]))
    fused = fuse(dense, [(cid, coverage.get(cid, 0.0)) for cid in candidates], weight)
    return sorted(fused, key=lambda cid: fused[cid], reverse=True)


# ---- the per-query weight ------------------------------------------------------------------


def test_the_weight_falls_with_the_share_of_leading_candidates_holding_the_query() -> None:
    coverage = {"a": 1.0, "b": 0.5, "c": 0.2, "d": 0.39}
    # Leading: a, b, c (dense) and d (lexical; a counted once); a and b hold >= 0.4 of the best.
    assert lexical_weight_for(["a", "b", "c"], ["a", "d"], coverage, FUSION) == pytest.approx(
        0.5 * (1 - 2 / 4))
    coverage["d"] = 0.4  # the threshold counts as holding
    assert lexical_weight_for(["a", "b", "c"], ["a", "d"], coverage, FUSION) == pytest.approx(
        0.5 * (1 - 3 / 4))


def test_a_cluster_that_all_holds_the_query_gets_no_lexical_weight() -> None:
    coverage = {"a": 1.0, "b": 0.8, "c": 0.6, "d": 0.45}
    assert lexical_weight_for(["a", "b", "c"], ["d", "a"], coverage, FUSION) == 0.0


def test_only_the_leading_candidates_are_looked_at() -> None:
    coverage = {"a": 1.0, "b": 0.1, "c": 0.1, "d": 1.0}
    dense, lexical = ["a", "b", "c", "d"], ["a"]
    two = Fusion(ceiling=0.5, holds=0.4, leading=2)
    assert lexical_weight_for(dense, lexical, coverage, two) == pytest.approx(0.5 * (1 - 1 / 2))
    assert lexical_weight_for(dense, lexical, coverage, FUSION) == pytest.approx(
        0.5 * (1 - 2 / 4))
    fixed = Fusion(ceiling=0.2, leading=0)
    assert lexical_weight_for(dense, lexical, coverage, fixed) == 0.2


def test_no_lexical_evidence_means_no_lexical_weight() -> None:
    assert lexical_weight_for(["a", "b"], [], {"a": 0.0, "b": 0.0}, FUSION) == 0.0
    assert lexical_weight_for([], [], {}, FUSION) == 0.0


# ---- the fused ranking ---------------------------------------------------------------------


def test_a_chunk_holding_the_rare_words_overtakes_a_closer_cosine() -> None:
    dense = [("near", 0.80), ("exact", 0.76), ("other", 0.70)]
    coverage = {"near": 0.5, "exact": 1.0, "other": 0.3, "lexical-only": 0.35}
    # Two of four leading candidates hold the query: w = 0.25.
    # exact 0.75*0.76 + 0.25 = 0.82; near 0.75*0.80 + 0.125 = 0.725;
    # lexical-only 0.75*0.70 (lowest cosine) + 0.0875 = 0.6125; other 0.525 + 0.075 = 0.6.
    ranking = hybrid_ranking(dense, ["exact", "near", "lexical-only"], coverage)
    assert ranking == ["exact", "near", "lexical-only", "other"]


def test_in_a_cluster_the_dense_order_stands_whatever_the_coverage() -> None:
    dense = [("positive", 0.73), ("negative", 0.72), ("other", 0.66)]
    # The negative repeats every word of the question; the positive paraphrases one of them.
    coverage = {"positive": 0.66, "negative": 1.0, "other": 0.66}
    assert hybrid_ranking(dense, ["negative", "other", "positive"], coverage) == [
        "positive", "negative", "other"]
    # With a fixed weight the same evidence would put the negative first.
    fixed = Fusion(ceiling=0.2, leading=0)
    assert hybrid_ranking(dense, ["negative", "other", "positive"], coverage, fixed)[0] == (
        "negative")


def test_fuse_is_the_convex_sum_with_lexical_evidence_relative_to_the_best() -> None:
    fused = fuse([("a", 0.8), ("b", 0.6)], [("x", 4.0), ("a", 2.0)], 0.3)
    assert fused["x"] == pytest.approx(0.7 * 0.6 + 0.3 * 1.0)  # lexical only: lowest cosine
    assert fused["b"] == pytest.approx(0.7 * 0.6)  # no lexical evidence: no lexical part
    assert fused["a"] == pytest.approx(0.7 * 0.8 + 0.3 * 0.5)


# ---- the retriever on real Chroma and the real embedding model -----------------------------

CLUSTER_QUESTION = "Super Bowl 2021 location"
CLUSTER = {
    # One event, as RGB has them: every passage holds most of the question's words, and the
    # ones that repeat "location" do not say where the game was.
    "venue": "Super Bowl LV in 2021 was held at Raymond James Stadium in Tampa, Florida.",
    "party": "The location of our Super Bowl 2021 watch party moved to the town hall.",
    "parking": "Parking location maps for Super Bowl 2021 fans were printed in the paper.",
    "ratings": "Super Bowl 2021 ratings fell to a fifteen-year low on network television.",
    "bets": "Bettors placed record wagers on the Super Bowl in 2021.",
    "halftime": "The Weeknd headlined the Super Bowl halftime show in 2021.",
    "adverts": "A thirty-second Super Bowl advert cost five and a half million dollars in 2021.",
    "masks": "Fans at the Super Bowl in 2021 had to wear masks inside the stadium.",
    "mvp": "Tom Brady was named the most valuable player of the Super Bowl in 2021.",
}
DISTINCT_QUESTION = "How many trawlers did the harbour master count before the storm?"
DISTINCT = {
    "harbour": "The harbour master counted forty trawlers leaving port before the storm.",
    "orchard": "Apple growers in the valley lost a third of the harvest to late frost.",
    "council": "The council voted to close the library on Sundays from next spring.",
    "bridge": "Engineers closed the old bridge after finding cracks in two of its piers.",
    "school": "The school board hired twelve new teachers for the autumn term.",
    "museum": "The museum reopened its dinosaur hall after a two-year renovation.",
    "rail": "Commuter trains will run every ten minutes on the northern line.",
    "farm": "Dairy farmers protested outside parliament over the price of milk.",
    "clinic": "A new clinic in the east of the city will open on weekdays.",
    "river": "Heavy rain raised the river to its highest level in a decade.",
}


@pytest.fixture(scope="module")
def news_desk(tmp_path_factory: pytest.TempPathFactory) -> Factdesk:
    from service.desk import Factdesk

    desk = Factdesk(make_settings(tmp_path_factory.mktemp("hybrid") / "data"))
    for document_id, text in {**CLUSTER, **DISTINCT}.items():
        desk.ingest(text, "text", document_id=document_id)
    return desk


def both_lists(desk: Factdesk, question: str) -> tuple[list[Passage], list[Passage]]:
    retriever = desk.retriever
    return (retriever.retrieve(question, k=40, mode=RetrievalMode.DENSE),
            retriever.retrieve(question, k=40, mode=RetrievalMode.LEXICAL))


@pytest.mark.integration
@pytest.mark.parametrize("question", [CLUSTER_QUESTION, DISTINCT_QUESTION])
def test_hybrid_scores_follow_the_rule_from_both_lists(news_desk: Factdesk, question: str) -> None:
    dense, lexical = both_lists(news_desk, question)
    hybrid = news_desk.retriever.retrieve(question, k=40)

    dense_ids = [p.chunk.id for p in dense]
    lexical_ids = [p.chunk.id for p in lexical]
    coverage = news_desk.lexical.coverage(question, list(dict.fromkeys(dense_ids + lexical_ids)))
    weight = lexical_weight_for(dense_ids, lexical_ids, coverage, DEFAULT_FUSION)
    assert (weight == 0.0) == (question == CLUSTER_QUESTION)
    best = max(coverage.values())
    floor = min(p.score for p in dense)
    assert {p.chunk.id for p in hybrid} == set(coverage)
    for passage in hybrid:
        cosine = passage.dense_score if passage.dense_score is not None else floor
        expected = (1 - weight) * cosine + weight * coverage[passage.chunk.id] / best
        assert passage.score == pytest.approx(expected)
    assert [p.score for p in hybrid] == sorted((p.score for p in hybrid), reverse=True)
    # Single modes keep their own scores: the cosine, and BM25 relative to the best.
    assert all(p.score == pytest.approx(p.dense_score) for p in dense)
    top_bm25 = lexical[0].lexical_score
    assert top_bm25 is not None
    assert all(p.score == pytest.approx((p.lexical_score or 0) / top_bm25) for p in lexical)


@pytest.mark.integration
def test_a_same_topic_cluster_is_ranked_as_dense_ranks_it(news_desk: Factdesk) -> None:
    retriever = news_desk.retriever
    dense, lexical = both_lists(news_desk, CLUSTER_QUESTION)
    assert dense[0].chunk.document_id == "venue"
    assert lexical[0].chunk.document_id in {"party", "parking"}
    hybrid = retriever.retrieve(CLUSTER_QUESTION, k=10)
    assert [p.chunk.id for p in hybrid] == [p.chunk.id for p in dense[:10]]
    # The same evidence at a fixed weight puts a passage that repeats "location" first.
    retriever.fusion = Fusion(ceiling=0.2, leading=0)
    try:
        assert retriever.retrieve(CLUSTER_QUESTION, k=1)[0].chunk.document_id != "venue"
    finally:
        retriever.fusion = DEFAULT_FUSION
