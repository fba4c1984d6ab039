"""Public benchmarks from ``../shared/bench/`` as eval sets (the data is never copied in).

- ``squad-rc``: SQuAD 2.0 dev sample as reading comprehension; each question is asked of its
  own context only (``document_ids=[that context]``).
- ``squad-open``: the same questions against every context at once; retrieval is scored on the
  chunk of the question's own context that holds a gold answer.
- ``rgb``: RGB news facts; each question's positive and negative passages are all ingested and
  the question is asked of the whole store.
- ``rtqa`` / ``rtqa-undated``: RealTime QA news questions of December 2023 over that month's
  retrieved articles (with their dates), asked as of each question's date, or undated.
- ``updates``: factdesk's own dated stories whose figures change (``eval/datasets/updates.yaml``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from service.evaluation.datasets import BENCH_DIR, DATASETS_DIR
from service.scope import Scope

SQUAD_FILE = "squad2-dev.jsonl"
RGB_FILE = "rgb-fact-dev.jsonl"
RTQA_QUESTIONS = "rtqa-dev-questions.jsonl"
RTQA_ARTICLES = "rtqa-dev-articles.jsonl"


class BenchmarkMissing(Exception):
    """The benchmark's data file is not there; the run skips the set."""


@dataclass(frozen=True)
class BenchDocument:
    id: str
    text: str
    # Metadata ingested with the text (published, source, title, url), when the set has it.
    meta: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BenchQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # aliases for EM and F1; empty when unanswerable
    answerable: bool
    type: str  # the group in the report: HasAns / NoAns (SQuAD), fact (RGB)
    # Every group must appear in the answer (RGB); empty means "some alias of `answers`".
    required: tuple[tuple[str, ...], ...] = ()
    scope: tuple[str, ...] | None = None  # the document_ids to ask with; None: the whole store
    # A retrieved chunk is relevant when it belongs to one of these documents and, if
    # `relevant_strings` is not empty, its text contains one of them.
    relevant_documents: tuple[str, ...] = ()
    relevant_strings: tuple[str, ...] = ()
    filters: Scope | None = None  # dates and sources to ask with (as_of: "as known then")
    # Values that were right earlier: an answer with one is a stale figure.
    stale_answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Benchmark:
    name: str
    corpus: str  # sets with the same corpus (squad-rc, squad-open) can share one store
    path: Path
    documents: tuple[BenchDocument, ...]
    questions: tuple[BenchQuestion, ...]

    def limited(self, limit: int | None) -> Benchmark:
        return self if limit is None else replace(self, questions=self.questions[:limit])


def is_benchmark(name: str) -> bool:
    return name in BENCHMARKS


def benchmark_path(name: str, directory: Path | None = None) -> Path:
    file = BENCHMARKS[name][0]
    return file if isinstance(file, Path) else (directory or BENCH_DIR) / file


def load_benchmark(name: str, directory: Path | None = None) -> Benchmark:
    """Load a benchmark by name; BenchmarkMissing when its file is absent."""
    path = benchmark_path(name, directory)
    if not path.is_file():
        raise BenchmarkMissing(f"{name}: {path} not found; skipped")
    return BENCHMARKS[name][1](path)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


# ---- SQuAD 2.0 ---------------------------------------------------------------------------


def squad_document_id(context: str) -> str:
    return "squad-" + hashlib.sha256(context.encode("utf-8")).hexdigest()[:16]


def load_squad(path: Path, *, open_corpus: bool) -> Benchmark:
    documents: dict[str, BenchDocument] = {}
    questions = []
    for item in _lines(path):
        context = str(item["context"])
        doc_id = squad_document_id(context)
        documents.setdefault(doc_id, BenchDocument(doc_id, context))
        # Unanswerable items carry [""]; aliases repeat (several annotators).
        answers = tuple(dict.fromkeys(a for a in map(str, item["answers"]) if a.strip()))
        answerable = bool(answers) and not item.get("is_impossible", False)
        questions.append(BenchQuestion(
            id=str(item["id"]),
            question=str(item["question"]),
            answers=answers if answerable else (),
            answerable=answerable,
            type="HasAns" if answerable else "NoAns",
            scope=None if open_corpus else (doc_id,),
            relevant_documents=(doc_id,) if open_corpus and answerable else (),
            relevant_strings=answers if open_corpus and answerable else (),
        ))
    return Benchmark(
        name="squad-open" if open_corpus else "squad-rc", corpus="squad", path=path,
        documents=tuple(documents.values()), questions=tuple(questions),
    )


# ---- RGB ---------------------------------------------------------------------------------


def rgb_answer_groups(answer: object) -> tuple[tuple[str, ...], ...]:
    """RGB's `answer`: a string, or a list whose items are each a string or a list of
    aliases; every item must appear in a right answer (one alias of it is enough)."""
    if isinstance(answer, str):
        return ((answer,),)
    if isinstance(answer, list):
        return tuple(
            tuple(str(a) for a in item) if isinstance(item, list) else (str(item),)
            for item in answer
        )
    raise ValueError(f"unexpected RGB answer {answer!r}")


def load_rgb(path: Path) -> Benchmark:
    documents = []
    questions = []
    for item in _lines(path):
        qid = str(item["id"])
        positives = [BenchDocument(f"rgb-{qid}-p{i}", str(text))
                     for i, text in enumerate(item.get("positive") or [])]
        negatives = [BenchDocument(f"rgb-{qid}-n{i}", str(text))
                     for i, text in enumerate(item.get("negative") or [])]
        documents += positives + negatives
        groups = rgb_answer_groups(item["answer"])
        questions.append(BenchQuestion(
            id=qid,
            question=str(item["question"]),
            answers=tuple(dict.fromkeys(a for group in groups for a in group)),
            answerable=True,
            type="fact",
            required=groups,
            relevant_documents=tuple(d.id for d in positives),
        ))
    return Benchmark(name="rgb", corpus="rgb", path=path, documents=tuple(documents),
                     questions=tuple(questions))


# ---- RealTime QA ---------------------------------------------------------------------------


def load_rtqa(path: Path, *, as_of: bool) -> Benchmark:
    """RealTime QA, December 2023: every article with its date, title and address; each
    question asked as of its date (``rtqa``) or with no date (``rtqa-undated``), where the
    stale weeks' articles are the trap."""
    articles = path.with_name(RTQA_ARTICLES)
    if not articles.is_file():
        raise BenchmarkMissing(f"rtqa: {articles} not found; skipped")
    documents = []
    for item in _lines(articles):
        meta = [("title", str(item.get("title") or "")), ("url", str(item.get("url") or "")),
                ("published", str(item.get("published") or ""))]
        documents.append(BenchDocument(f"rtqa-{item['id']}", str(item["text"]),
                                       tuple((k, v) for k, v in meta if v)))
    questions = []
    for item in _lines(path):
        answers = tuple(str(a) for a in item["answers"])
        questions.append(BenchQuestion(
            id=str(item["id"]), question=str(item["question"]), answers=answers,
            answerable=True, type=f"week {item['week']}",
            filters=Scope.of(as_of=str(item["date"])) if as_of else None,
        ))
    return Benchmark(name="rtqa" if as_of else "rtqa-undated", corpus="rtqa", path=path,
                     documents=tuple(documents), questions=tuple(questions))


# ---- updates: hand-written dated articles (eval/datasets/updates.yaml) -----------------------


def load_updates(path: Path) -> Benchmark:
    """factdesk's own updated stories: dated articles where a later one changes a figure, and
    questions that need the latest value, the value as of an earlier date, or a filter."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    documents = tuple(
        BenchDocument(str(a["id"]), str(a["text"]),
                      tuple((k, str(a[k])) for k in ("title", "published", "source", "url")
                            if a.get(k)))
        for a in data["articles"])
    questions = []
    for item in data["questions"]:
        answers = tuple(str(a) for a in item.get("answers") or ())
        filters = {k: item[k] for k in ("as_of", "published_after", "published_before",
                                        "sources") if item.get(k) is not None}
        questions.append(BenchQuestion(
            id=str(item["id"]), question=str(item["question"]), answers=answers,
            answerable=bool(answers), type=str(item["type"]),
            relevant_documents=tuple(item.get("relevant_documents") or ()),
            filters=Scope.of(**filters) if filters else None,
            stale_answers=tuple(str(a) for a in item.get("stale_answers") or ()),
        ))
    return Benchmark(name="updates", corpus="updates", path=path, documents=documents,
                     questions=tuple(questions))


BENCHMARKS: dict[str, tuple[str | Path, Callable[[Path], Benchmark]]] = {
    "squad-rc": (SQUAD_FILE, lambda path: load_squad(path, open_corpus=False)),
    "squad-open": (SQUAD_FILE, lambda path: load_squad(path, open_corpus=True)),
    "rgb": (RGB_FILE, load_rgb),
    "rtqa": (RTQA_QUESTIONS, lambda path: load_rtqa(path, as_of=True)),
    "rtqa-undated": (RTQA_QUESTIONS, lambda path: load_rtqa(path, as_of=False)),
    "updates": (DATASETS_DIR / "updates.yaml", load_updates),
}
