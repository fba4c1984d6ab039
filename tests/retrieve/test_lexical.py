"""The lexical index's coverage: which of the query's words a chunk holds, weighted by rarity."""

from __future__ import annotations

import math

import pytest

from service.retrieve.lexical import LexicalIndex

CHUNKS = [
    ("long", "zebra zebra zebra crossing"),
    ("park", "crossing near the park by the old mill"),
    ("river", "crossing the river"),
    ("zebra", "zebra"),
]


def lucene_idf(df: int, documents: int) -> float:
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


@pytest.fixture
def index() -> LexicalIndex:
    index = LexicalIndex()
    index.replace_all(CHUNKS)
    return index


def test_coverage_is_the_share_of_the_query_idf_a_chunk_holds(index: LexicalIndex) -> None:
    zebra, crossing = lucene_idf(2, 4), lucene_idf(3, 4)
    coverage = index.coverage("zebra crossing", ["long", "park", "river", "zebra"])
    assert coverage["long"] == pytest.approx(1.0)
    assert coverage["zebra"] == pytest.approx(zebra / (zebra + crossing))
    assert coverage["park"] == pytest.approx(crossing / (zebra + crossing))
    assert coverage["zebra"] > coverage["park"]  # the rarer word weighs more


def test_counts_and_length_do_not_change_coverage(index: LexicalIndex) -> None:
    # BM25 ranks these apart (three "zebra"s; a longer chunk); coverage does not.
    coverage = index.coverage("zebra crossing", ["long", "park", "river"])
    assert coverage["park"] == coverage["river"]
    bm25 = dict(index.search("zebra crossing", 4))
    assert bm25["river"] > bm25["park"]  # the shorter chunk
    solo = LexicalIndex()
    solo.replace_all([*CHUNKS[1:], ("once", "zebra crossing")])
    assert solo.coverage("zebra crossing", ["once"])["once"] == pytest.approx(1.0)


def test_words_the_index_lacks_and_unknown_chunks(index: LexicalIndex) -> None:
    with_unknown_word = index.coverage("zebra crossing unicorn", ["zebra", "nowhere"])
    assert with_unknown_word["zebra"] == pytest.approx(
        index.coverage("zebra crossing", ["zebra"])["zebra"])
    assert with_unknown_word["nowhere"] == 0.0
    assert index.coverage("unicorn", ["long"]) == {"long": 0.0}
    assert index.coverage("the", ["long"]) == {"long": 0.0}  # only stop words


def test_coverage_follows_changes_to_the_index(index: LexicalIndex) -> None:
    index.remove(["zebra"])
    zebra, crossing = lucene_idf(1, 3), lucene_idf(3, 3)
    assert index.coverage("zebra crossing", ["park"])["park"] == pytest.approx(
        crossing / (zebra + crossing))
    index.add([("zebra", "zebra")])
    assert index.coverage("zebra crossing", ["park"])["park"] == pytest.approx(
        lucene_idf(3, 4) / (lucene_idf(2, 4) + lucene_idf(3, 4)))
