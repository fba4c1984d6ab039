"""Public benchmark adapters (loading and scoring on hand-made JSONL) and the retrieval fusion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from service.domain import Citation
from service.evaluation import benchmarks
from service.evaluation.benchmark_runner import run_benchmark, score_benchmark_reply
from service.evaluation.benchmarks import (
    BenchmarkMissing,
    load_benchmark,
    load_rgb,
    load_squad,
    rgb_answer_groups,
    squad_document_id,
)
from service.evaluation.command import EvalOptions, run_command
from service.evaluation.metrics import RetrievedSpan, contains_every, relevant_rank
from service.evaluation.targets import Reply
from service.retrieve.hybrid import fuse

CONTEXT_A = "The Normans were the people who gave their name to Normandy, a region in France."
CONTEXT_B = "Warsaw has 13 natural reserves, among them Bielany Forest and Kabaty Woods."
SQUAD = [
    {"id": "q1", "question": "What region did the Normans give their name to?",
     "context": CONTEXT_A, "answers": ["Normandy", "Normandy", "a region in France"],
     "is_impossible": False},
    {"id": "q2", "question": "When did the Normans leave Normandy?", "context": CONTEXT_A,
     "answers": [""], "is_impossible": True},
    {"id": "q3", "question": "How many natural reserves does Warsaw have?",
     "context": CONTEXT_B, "answers": ["13"], "is_impossible": False},
]
RGB = [
    {"id": "0", "question": "Super Bowl 2021 location", "answer": "Tampa, Florida",
     "fake_answer": "Glendale, Arizona",
     "positive": ["Super Bowl LV was played in Tampa, Florida.", "Tampa hosted it."],
     "positive_wrong": ["Super Bowl LV was played in Glendale, Arizona."],
     "negative": ["Super Bowl LVIII tickets in Las Vegas."]},
    {"id": "15", "question": "When was the film released?",
     "answer": [["July 21 2017", "Jul 21, 2017", "21 July 2017"]], "fake_answer": "x",
     "positive": ["The film was released on 21 July 2017."], "positive_wrong": [],
     "negative": []},
]


def write_jsonl(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / benchmarks.SQUAD_FILE, SQUAD)
    write_jsonl(tmp_path / benchmarks.RGB_FILE, RGB)
    return tmp_path


def reply(answer: str = "", abstained: bool = False, passages: list[RetrievedSpan] | None = None,
          citations: list[Citation] | None = None) -> Reply:
    return Reply(answer=answer, abstained=abstained, confidence=0.5,
                 citations=citations or [], passages=passages or [])


# ---- loading -------------------------------------------------------------------------------


def test_squad_reading_comprehension_asks_each_question_of_its_own_context(
    bench_dir: Path,
) -> None:
    squad = load_benchmark("squad-rc", bench_dir)
    a, b = squad_document_id(CONTEXT_A), squad_document_id(CONTEXT_B)

    assert squad.name == "squad-rc" and squad.corpus == "squad"
    assert [d.id for d in squad.documents] == [a, b]  # every distinct context once
    assert a.startswith("squad-") and len(a) == len("squad-") + 16
    q1, q2, q3 = squad.questions
    assert q1.answers == ("Normandy", "a region in France")  # repeated aliases fold
    assert (q1.answerable, q1.type, q1.scope) == (True, "HasAns", (a,))
    assert (q2.answerable, q2.type, q2.answers) == (False, "NoAns", ())
    assert q3.scope == (b,)
    assert not q1.relevant_documents  # retrieval is not scored in reading comprehension


def test_squad_open_corpus_asks_the_whole_store_and_marks_the_gold_chunks(
    bench_dir: Path,
) -> None:
    q1, q2, _ = load_squad(bench_dir / benchmarks.SQUAD_FILE, open_corpus=True).questions

    assert q1.scope is None
    assert q1.relevant_documents == (squad_document_id(CONTEXT_A),)
    assert q1.relevant_strings == q1.answers
    assert q2.relevant_documents == ()  # unanswerable: no retrieval score


def test_rgb_ingests_positive_and_negative_passages_under_stable_ids(bench_dir: Path) -> None:
    rgb = load_rgb(bench_dir / benchmarks.RGB_FILE)

    assert [d.id for d in rgb.documents] == ["rgb-0-p0", "rgb-0-p1", "rgb-0-n0", "rgb-15-p0"]
    first, second = rgb.questions
    assert first.relevant_documents == ("rgb-0-p0", "rgb-0-p1")
    assert first.required == (("Tampa, Florida",),)
    assert second.required == (("July 21 2017", "Jul 21, 2017", "21 July 2017"),)
    assert all(q.answerable and q.scope is None for q in rgb.questions)


def test_rgb_answers_are_strings_or_lists_of_parts_with_aliases() -> None:
    assert rgb_answer_groups("x") == (("x",),)
    assert rgb_answer_groups(["a", ["b", "c"]]) == (("a",), ("b", "c"))
    with pytest.raises(ValueError):
        rgb_answer_groups(3)
    assert contains_every("x and z", (("x",), ("y", "z")))
    assert not contains_every("only x", (("x",), ("y", "z")))


def test_a_missing_file_is_reported_and_skipped(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(BenchmarkMissing, match="not found"):
        load_benchmark("rgb", tmp_path)

    monkeypatch.setattr(benchmarks, "BENCH_DIR", tmp_path)
    console = Console(record=True, width=200)
    code = run_command(EvalOptions(datasets=["squad-rc", "rgb"], report_dir=tmp_path / "r"),
                       console)

    assert code == 0
    shown = console.export_text()
    assert "squad-rc:" in shown and "rgb:" in shown and "skipped" in shown
    assert not (tmp_path / "r").exists()


# ---- scoring -------------------------------------------------------------------------------


def test_squad_scores_take_the_best_alias_and_reward_abstention_only_when_impossible(
    bench_dir: Path,
) -> None:
    q1, q2, _ = load_benchmark("squad-rc", bench_dir).questions
    text = {squad_document_id(CONTEXT_A): CONTEXT_A}.__getitem__

    right = score_benchmark_reply(q1, reply("the Normandy."), [], text, 8)
    partial = score_benchmark_reply(q1, reply("a region"), [], text, 8)
    abstained = score_benchmark_reply(q1, reply("Normandy", abstained=True), [], text, 8)
    assert (right.em, right.f1, right.contains_gold) == (1.0, 1.0, True)
    assert partial.em == 0.0 and partial.f1 == pytest.approx(0.5)  # "region" of 3 tokens
    assert (abstained.em, abstained.contains_gold) == (0.0, False)

    assert score_benchmark_reply(q2, reply("", abstained=True), [], text, 8).em == 1.0
    answered = score_benchmark_reply(q2, reply("in 1066"), [], text, 8)
    assert (answered.em, answered.f1, answered.abstained_correctly) == (0.0, 0.0, False)


def test_open_corpus_retrieval_counts_only_gold_context_chunks_holding_an_answer(
    bench_dir: Path,
) -> None:
    q1 = load_squad(bench_dir / benchmarks.SQUAD_FILE, open_corpus=True).questions[0]
    a, b = squad_document_id(CONTEXT_A), squad_document_id(CONTEXT_B)
    texts = {a: CONTEXT_A, b: CONTEXT_B}
    cut = CONTEXT_A.index("Normandy")
    passages = [
        RetrievedSpan(f"{b}:0", b, 0, len(CONTEXT_B)),  # another context
        RetrievedSpan(f"{a}:0", a, 0, cut),  # own context, no answer in it
        RetrievedSpan(f"{a}:1", a, cut, len(CONTEXT_A)),  # the gold chunk
    ]
    scores = score_benchmark_reply(q1, reply("Normandy", passages=passages), [],
                                   texts.__getitem__, 8)

    assert scores.supporting_rank == 3
    assert (scores.recall_at_1, scores.recall_at_5) == (False, True)
    assert scores.reciprocal_rank == pytest.approx(1 / 3)
    assert relevant_rank(passages, [a], [], texts.__getitem__) == 2  # any chunk of `a`


def test_rgb_is_right_when_every_part_appears_and_cites_a_positive_passage(
    bench_dir: Path,
) -> None:
    first, second = load_rgb(bench_dir / benchmarks.RGB_FILE).questions
    text = "Super Bowl LV was played in Tampa, Florida."
    cite = Citation(document_id="rgb-0-p0", chunk_id="rgb-0-p0:0", start=28, end=42,
                    quote="Tampa, Florida", title="")
    passages = [RetrievedSpan("rgb-0-n0:0", "rgb-0-n0", 0, 10),
                RetrievedSpan("rgb-0-p0:0", "rgb-0-p0", 0, len(text))]
    scores = score_benchmark_reply(
        first, reply("It was in Tampa, Florida.", passages=passages, citations=[cite]), [True],
        lambda _: text, 8)

    assert scores.contains_gold and scores.citation_support
    assert scores.supporting_rank == 2 and scores.citation_exact == 1.0
    assert score_benchmark_reply(second, reply("on Jul 21, 2017"), [], str, 8).contains_gold
    assert not score_benchmark_reply(second, reply("in July 2017"), [], str, 8).contains_gold


class FakeTarget:
    """Answers from a fixed table; enough to check the run's bookkeeping without the model."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.asked: list[tuple[str, list[str] | None]] = []

    def ingest_file(self, path: Path) -> str:
        raise NotImplementedError

    def ingest_text(self, text: str, document_id: str, meta=None) -> str:
        self.texts[document_id] = text
        return document_id

    def ask(self, question: str, document_ids=None, scope=None) -> Reply:
        self.asked.append((question, list(document_ids) if document_ids else None))
        if "leave" in question:
            return reply(abstained=True)
        return reply("Normandy" if "Normans" in question else "12")

    def document_text(self, document_id: str) -> str:
        return self.texts[document_id]

    def describe(self) -> dict[str, object]:
        return {"target": "fake", "top_k": 8}

    def close(self) -> None:
        pass


def test_a_benchmark_run_ingests_every_document_and_splits_has_and_no_answer(
    bench_dir: Path,
) -> None:
    target = FakeTarget()
    run = run_benchmark(target, load_benchmark("squad-rc", bench_dir))

    assert set(target.texts) == {squad_document_id(CONTEXT_A), squad_document_id(CONTEXT_B)}
    assert target.asked[0][1] == [squad_document_id(CONTEXT_A)]
    assert run.summary.squad_em == pytest.approx(2 / 3, abs=1e-3)  # q1 right, q2 abstained, q3 wrong
    assert run.by_type["HasAns"].em == 0.5
    assert run.by_type["NoAns"].abstention_recall == 1.0
    assert run.by_difficulty == {}


# ---- fusion --------------------------------------------------------------------------------


def ranked(fused: dict[str, float]) -> list[str]:
    return sorted(fused, key=lambda cid: fused[cid], reverse=True)


def test_a_chunk_first_in_both_lists_stays_first() -> None:
    dense = [("a", 0.80), ("b", 0.75), ("c", 0.40)]
    lexical = [("a", 9.0), ("c", 8.5), ("d", 2.0)]
    for weight in (0.0, 0.2, 0.5, 0.8, 1.0):
        assert ranked(fuse(dense, lexical, weight))[0] == "a"


def test_the_lexical_weight_breaks_a_tie_between_the_two_lists() -> None:
    # "d" wins on cosine, "l" on BM25; with equal differences the weight decides.
    dense = [("d", 0.9), ("l", 0.8)]
    lexical = [("l", 10.0), ("d", 9.0)]
    assert ranked(fuse(dense, lexical, 0.3))[0] == "d"
    assert ranked(fuse(dense, lexical, 0.7))[0] == "l"
    even = fuse(dense, lexical, 0.5)
    assert even["d"] == pytest.approx(even["l"])


def test_one_sided_chunks_get_the_lowest_cosine_or_no_lexical_part() -> None:
    fused = fuse([("a", 0.8), ("b", 0.6)], [("x", 4.0), ("a", 2.0)], 0.2)
    assert fused["x"] == pytest.approx(0.8 * 0.6 + 0.2 * 1.0)  # lexical only: floor cosine
    assert fused["b"] == pytest.approx(0.8 * 0.6)  # dense only: no lexical part
    assert fused["a"] == pytest.approx(0.8 * 0.8 + 0.2 * 0.5)


def test_single_mode_retrieval_keeps_its_own_order_and_ranks_are_deterministic() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.5)]
    lexical = [("c", 3.0), ("b", 2.0)]
    assert ranked(fuse(dense, [])) == ["a", "b", "c"]  # ties keep the list's order
    assert ranked(fuse([], lexical)) == ["c", "b"]
    assert ranked(fuse(dense, lexical)) == ranked(fuse(dense, lexical))
    assert fuse([], []) == {}


@pytest.mark.integration
def test_squad_reading_comprehension_on_the_real_service(bench_dir: Path) -> None:
    """Two contexts, three questions, end to end through an embedded Factdesk."""
    from service.evaluation.targets import EmbeddedTarget

    target = EmbeddedTarget()
    try:
        run = run_benchmark(target, load_benchmark("squad-open", bench_dir))
    finally:
        target.close()
    assert run.summary.questions == 3 and run.summary.errors == 0
    assert run.summary.citation_exact in (None, 1.0)
    assert run.summary.recall_at_5 == 1.0  # two contexts: the gold chunk is always in the top 5
