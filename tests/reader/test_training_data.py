"""Training data: benchmark texts never reach training, held-out articles stay whole."""

from __future__ import annotations

import json
from pathlib import Path

from service.training.training_data import benchmark_shingles, load_squad, split_by_title

BENCH_CONTEXT = ("The Normans were the people who in the 10th and 11th centuries gave their name "
                 "to Normandy, a region in France, descended from Norse raiders and pirates.")
OTHER_CONTEXT = ("Warsaw's public transport consists of buses, trams, a metro line and a suburban "
                 "railway, run by the city's transport authority since the early nineties.")


def squad_file(path: Path, paragraphs: list[tuple[str, str, list[dict]]]) -> Path:
    data = {"version": "v2.0", "data": [
        {"title": title, "paragraphs": [{"context": context, "qas": qas}]}
        for title, context, qas in paragraphs]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def qa(qid: str, question: str, answer: str | None, context: str) -> dict:
    if answer is None:
        return {"id": qid, "question": question, "answers": [], "is_impossible": True}
    return {"id": qid, "question": question, "is_impossible": False,
            "answers": [{"text": answer, "answer_start": context.index(answer)}]}


def test_examples_whose_context_is_in_the_benchmarks_are_dropped(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    # The benchmark holds the context with different spacing and case, inside other text.
    (bench / "squad2-dev.jsonl").write_text(json.dumps(
        {"id": "x", "question": "q", "context": "Intro.  " + BENCH_CONTEXT.upper(),
         "answers": []}) + "\n", encoding="utf-8")
    data = squad_file(tmp_path / "train.json", [
        ("Normans", BENCH_CONTEXT, [qa("1", "Where is Normandy?", "France", BENCH_CONTEXT)]),
        ("Warsaw", OTHER_CONTEXT, [qa("2", "What runs the trams?", "the city's transport "
                                      "authority", OTHER_CONTEXT),
                                   qa("3", "How much is a ticket?", None, OTHER_CONTEXT)]),
    ])
    examples, report = load_squad([data], benchmark_shingles(bench))
    assert [e.id for e in examples] == ["2", "3"]
    assert report.dropped_benchmark_overlap == 1
    assert report.files[0][2] == 3 and len(report.files[0][1]) == 40  # questions read, sha1
    assert examples[0].context[examples[0].answer_start:].startswith("the city's")
    assert not examples[1].answerable
    # Without the benchmark filter, the Normans question is kept.
    assert len(load_squad([data], set())[0]) == 3


def test_held_out_articles_are_whole(tmp_path: Path) -> None:
    paragraphs = []
    for i in range(40):
        context = f"Article {i} says that the value of item {i} is {i * 3} units, no more."
        paragraphs.append((f"Title {i}", context, [
            qa(f"{i}a", f"What is the value of item {i}?", f"{i * 3} units", context),
            qa(f"{i}b", f"Who owns item {i}?", None, context)]))
    examples, _ = load_squad([squad_file(tmp_path / "t.json", paragraphs)], set())
    train, held = split_by_title(examples, 0.25)
    assert train and held
    assert {e.title for e in train}.isdisjoint({e.title for e in held})
    assert split_by_title(examples, 0.25) == (train, held)  # deterministic
    assert len({e.title for e in held}) == 10  # ceil(0.25 * 40) articles
    assert len({e.title for e in split_by_title(examples, 0.01)[1]}) == 1


def test_each_source_file_holds_out_its_own_articles(tmp_path: Path) -> None:
    # One big file and one small one: the small one still gives the held-out side an article.
    files = []
    for name, count in (("big", 30), ("small", 2)):
        paragraphs = []
        for i in range(count):
            context = f"The {name} archive lists record {i} as filed in {1900 + i} by clerks."
            paragraphs.append((f"{name} {i}", context, [
                qa(f"{name}{i}", f"When was record {i} filed?", f"{1900 + i}", context)]))
        files.append(squad_file(tmp_path / f"{name}.json", paragraphs))
    examples, _ = load_squad(files, set())
    assert {e.source for e in examples} == {"big.json", "small.json"}
    train, held = split_by_title(examples, 0.1)
    held_by_source = {s: {e.title for e in held if e.source == s} for s in ("big.json", "small.json")}
    assert len(held_by_source["big.json"]) == 3 and len(held_by_source["small.json"]) == 1
    assert {(e.source, e.title) for e in train}.isdisjoint({(e.source, e.title) for e in held})


def test_a_swapped_question_names_what_the_context_lacks() -> None:
    import random

    from service.training.training_data import QAExample, names_and_numbers, swapped_question

    context = "In 1998 the Vistula Bridge in Warsaw was rebuilt by Anna Kowalska for 4 million."
    example = QAExample("1", "t", "Who rebuilt the Vistula Bridge in 1998?", context,
                        ("Anna Kowalska",), context.index("Anna"))
    pool = names_and_numbers(["When did Lisbon host the Expo in 1998?",
                              "Where did Oslo build a tower in 2004?"])
    assert pool["year"] == ["1998", "2004"] and "Lisbon" in pool["name"]
    seen = set()
    for seed in range(20):
        swapped = swapped_question(example, pool, random.Random(seed))
        assert swapped is not None and swapped != example.question
        seen.add(swapped)
    # Only a name or year the context lacks comes in, in place of one it holds.
    assert seen <= {"Who rebuilt the Lisbon in 1998?", "Who rebuilt the Oslo in 1998?",
                    "Who rebuilt the Expo in 1998?", "Who rebuilt the Vistula Bridge in 2004?"}
    assert "Who rebuilt the Vistula Bridge in 2004?" in seen
    no_names = QAExample("2", "t", "who rebuilt it?", context, ("Anna Kowalska",), 40)
    assert swapped_question(no_names, pool, random.Random(0)) is None


def test_a_source_limit_keeps_that_many_questions_of_that_file_only() -> None:
    from service.training.training_data import QAExample, sample_questions

    examples = [QAExample(f"a{n}", "t", "q?", "c", (), -1, source="a.json") for n in range(10)]
    examples += [QAExample(f"b{n}", "t", "q?", "c", (), -1, source="b.json") for n in range(4)]
    kept = sample_questions(examples, {"a.json": 3}, seed=1)
    assert sum(e.source == "a.json" for e in kept) == 3
    assert sum(e.source == "b.json" for e in kept) == 4
    assert sample_questions(examples, {"a.json": 3}, seed=1) == kept  # the same draw each run


def test_a_retrieved_negative_comes_from_another_article_and_lacks_the_answer() -> None:
    from service.training.training_data import QAExample, retrieved_elsewhere

    bridge = "The Vistula bridge in Warsaw was rebuilt by Anna Kowalska after the war."
    other_bridge = "The Oder bridge in Wroclaw was rebuilt in 1950, the city said."
    unrelated = "Apple harvests in Grojec were good this autumn, growers said."
    examples = [
        QAExample("1", "warsaw", "Who rebuilt the Vistula bridge?", bridge, ("Anna Kowalska",),
                  bridge.index("Anna")),
        QAExample("2", "wroclaw", "When was the Oder bridge rebuilt?", other_bridge, ("1950",),
                  other_bridge.index("1950")),
        QAExample("3", "grojec", "Where were apple harvests good?", unrelated, ("Grojec",),
                  unrelated.index("Grojec")),
    ]
    found = retrieved_elsewhere(examples, share=1.0, seed=0)
    assert found["1"] == other_bridge  # the on-topic passage of another article
    assert found["2"] == bridge
    assert all(text != e.context for e in examples for qid, text in found.items()
               if qid == e.id)


def test_a_changed_count_asks_for_something_the_context_never_mentions() -> None:
    import random

    from service.training.training_data import QAExample, changed_count, counted_nouns

    context = "Storm Ingrid forced the evacuation of 3,450 homes on Friday."
    example = QAExample("1", "t", "How many homes were evacuated?", context, ("3,450",),
                        context.index("3,450"))
    nouns = counted_nouns(["How many people died?", "How many homes burned?",
                           "how many soldiers were hurt?"])
    assert nouns == ["homes", "people", "soldiers"]
    for seed in range(10):
        changed = changed_count(example, nouns, random.Random(seed))
        assert changed in {"How many people were evacuated?", "How many soldiers were evacuated?"}
    asks_no_count = QAExample("2", "t", "Who was evacuated?", context, ("homes",), 0)
    assert changed_count(asks_no_count, nouns, random.Random(0)) is None
