"""The lexical index: its coverage (which of the query's words a chunk holds, weighted by
rarity), and BM25 scores that stay those of a fresh bm25s index through adds, updates and
deletes, also while other threads search."""

from __future__ import annotations

import math
import random
import re
import threading
from collections import Counter

import bm25s
import pytest
import yaml

from service.retrieve.lexical import LexicalIndex, lexical_terms
from tests.samples import (
    HTML_ARTICLE,
    MARKDOWN_ARTICLE,
    REPO,
    SEEDS_DIR,
    TEXT_ARTICLE,
    long_article,
)

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


# ---- the index after writes scores as a bm25s index built from scratch -----------------------

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def corpus_sentences() -> list[str]:
    """The seed article and the sample articles, cut into sentences."""
    texts = [path.read_text() for path in sorted(SEEDS_DIR.glob("*.txt"))]
    texts += [MARKDOWN_ARTICLE, re.sub(r"<[^>]+>", " ", HTML_ARTICLE), TEXT_ARTICLE]
    texts += [long_article("tramway", 4), long_article("bypass", 3)]
    return [s.strip() for text in texts for s in SENTENCE_END.split(text) if s.strip()]


class Corpus:
    """Made-up articles of one to four sentences per chunk, drawn from ``corpus_sentences``;
    each version of an article has new chunk ids, as the desk names them."""

    def __init__(self, seed: int = 7) -> None:
        self.sentences = corpus_sentences()
        self.random = random.Random(seed)
        self.versions: dict[str, int] = {}

    def chunk_text(self) -> str:
        return " ".join(self.random.sample(self.sentences, self.random.randint(1, 4)))

    def article(self, document: str, chunks: int | None = None) -> list[tuple[str, str]]:
        version = self.versions[document] = self.versions.get(document, 0) + 1
        count = chunks or self.random.randint(2, 7)
        return [(f"{document}:v{version}:{i}", self.chunk_text()) for i in range(count)]

    def questions(self) -> list[str]:
        """The seed questions, and runs of words from the sentences (some repeated)."""
        seed = yaml.safe_load((REPO / "eval" / "datasets" / "seed.yaml").read_text())
        found = [item["question"] for item in seed["questions"]][:24]
        for _ in range(24):
            words = self.random.choice(self.sentences).split()
            picked = self.random.sample(words, min(len(words), self.random.randint(1, 6)))
            found.append(" ".join(picked + picked[:1]))
        return found


class Fresh:
    """A bm25s 'lucene' index built from scratch on ``chunks``, and coverage computed from
    scratch as the index computed it before writes kept it up to date."""

    def __init__(self, chunks: dict[str, str]) -> None:
        self.ids = list(chunks)
        self.terms = {cid: lexical_terms(text) for cid, text in chunks.items()}
        self.retriever = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
        self.retriever.index([self.terms[cid] or ["\u2205"] for cid in self.ids],
                             show_progress=False)
        self.df = Counter(term for held in self.terms.values() for term in set(held))

    def scores(self, query: str) -> dict[str, float]:
        """The positive scores."""
        terms = lexical_terms(query)
        if not terms:
            return {}
        scores = self.retriever.get_scores(terms)
        return {cid: float(score) for cid, score in zip(self.ids, scores) if score > 0}

    def coverage(self, query: str, asked: list[str]) -> dict[str, float]:
        weights = [(t, lucene_idf(self.df[t], len(self.ids)))
                   for t in sorted(set(lexical_terms(query))) if self.df[t]]
        mass = sum(weight for _, weight in weights)
        held = {cid: set(self.terms.get(cid, ())) for cid in asked}
        return {cid: sum(w for t, w in weights if t in held[cid]) / mass if mass > 0 else 0.0
                for cid in asked}


def assert_as_fresh(index: LexicalIndex, chunks: dict[str, str], questions: list[str]) -> None:
    assert len(index) == len(chunks) and index.chunk_ids() == set(chunks)
    fresh = Fresh(chunks)
    for question in questions:
        expected = fresh.scores(question)
        found = index.search(question, len(chunks) + 1)
        assert dict(found) == pytest.approx(expected, rel=1e-6, abs=1e-9), question
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        top = [s for _, s in index.search(question, 5)]
        assert top == pytest.approx(sorted(expected.values(), reverse=True)[:5], rel=1e-6)
        asked = [*list(expected)[:12], "nowhere:v1:0"]
        assert index.coverage(question, asked) == fresh.coverage(question, asked)


def test_after_adds_updates_and_deletes_the_scores_are_a_fresh_bm25s_index() -> None:
    corpus = Corpus()
    questions = corpus.questions()
    chunks = dict(pair for n in range(60) for pair in corpus.article(f"doc{n}"))
    index = LexicalIndex()
    index.replace_all(chunks.items())
    assert_as_fresh(index, chunks, questions)

    def update(document: str) -> None:  # as the desk ingests a new version
        for cid in [c for c in chunks if c.startswith(f"{document}:")]:
            del chunks[cid]
        new = corpus.article(document)
        chunks.update(new)
        index.remove_document(document)
        index.add(new)

    def delete(document: str) -> None:
        for cid in [c for c in chunks if c.startswith(f"{document}:")]:
            del chunks[cid]
        index.remove_document(document)

    # Small writes (a few chunks among hundreds: searched from the recent rows, removed rows
    # masked), each followed by searches.
    steps = [lambda: update("doc3"), lambda: delete("doc1"), lambda: update("new0"),
             lambda: update("doc10"), lambda: delete("doc10"), lambda: update("doc3")]
    for step in steps:
        step()
        assert_as_fresh(index, chunks, questions[::4])
    assert "doc1" not in {cid.partition(":")[0] for cid in index.chunk_ids()}
    assert any(cid.startswith("doc11:") for cid in index.chunk_ids())  # "doc1" left "doc11"

    # Single chunks: removed, replaced under the same id, empty or only stop words.
    gone = sorted(chunks)[5]
    del chunks[gone]
    index.remove([gone, "never-held:v1:0"])
    replaced = sorted(chunks)[9]
    chunks[replaced] = corpus.chunk_text()
    index.add([(replaced, chunks[replaced])])
    empty = {"blank:v1:0": "", "blank:v1:1": "the and of it", "blank:v1:2": "Korea"}
    chunks.update(empty)
    index.add(empty.items())
    assert_as_fresh(index, chunks, questions)

    # Many writes in a row, searched only now and then: seals (merges, drops dead rows).
    for n in range(40):
        update(f"doc{(7 * n) % 60}") if n % 3 else delete(f"doc{(7 * n) % 60}")
        if n % 9 == 0:
            assert_as_fresh(index, chunks, questions[::6])
    assert_as_fresh(index, chunks, questions)

    # What is kept across restarts gives the same index back.
    restored = LexicalIndex()
    restored.restore(index.snapshot())
    assert_as_fresh(restored, chunks, questions)
    assert {cid: Counter(t) for cid, t in restored.terms().items()} == {
        cid: Counter(lexical_terms(text)) for cid, text in chunks.items()}


def test_search_within_documents_and_repeated_query_words() -> None:
    corpus = Corpus(seed=3)
    chunks = dict(pair for n in range(20) for pair in corpus.article(f"doc{n}"))
    index = LexicalIndex()
    index.replace_all(chunks.items())
    index.remove_document("doc4")
    chunks = {cid: text for cid, text in chunks.items() if not cid.startswith("doc4:")}
    for question in corpus.questions()[:12]:
        allowed = ["doc2", "doc4", "doc7"]
        expected = {cid: s for cid, s in Fresh(chunks).scores(question).items()
                    if cid.partition(":")[0] in allowed}
        assert dict(index.search(question, 100, allowed)) == pytest.approx(expected, rel=1e-6)
    twice = dict(index.search("Korea Korea troops", 100))
    assert twice == pytest.approx(Fresh(chunks).scores("Korea Korea troops"), rel=1e-6)
    assert twice != pytest.approx(dict(index.search("Korea troops", 100)), rel=1e-6)


def test_searches_while_another_thread_writes() -> None:
    corpus = Corpus(seed=5)
    chunks = dict(pair for n in range(40) for pair in corpus.article(f"doc{n}"))
    questions = corpus.questions()
    articles = [corpus.article(f"doc{n % 40}") for n in range(120)]
    index = LexicalIndex()
    index.replace_all(chunks.items())
    failures: list[BaseException] = []
    writing = threading.Event()

    def write() -> None:
        try:
            for new in articles:
                document = new[0][0].partition(":")[0]
                index.remove_document(document)
                index.add(new)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            writing.set()

    def read() -> None:
        try:
            while not writing.is_set():
                for question in questions[:8]:
                    for cid, score in index.search(question, 10):
                        assert score > 0 and ":" in cid
                    index.coverage(question, ["doc1:v1:0"])
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for new in articles:  # what the writer left: the last version of each document
        document = new[0][0].partition(":")[0]
        chunks = {c: t for c, t in chunks.items() if c.partition(":")[0] != document}
        chunks.update(new)
    assert_as_fresh(index, chunks, questions[::3])


def test_bm25s_stop_words_are_dropped() -> None:
    for word in bm25s.stopwords.STOPWORDS_EN:
        assert lexical_terms(f"{word} harbour") == ["harbour"], word
