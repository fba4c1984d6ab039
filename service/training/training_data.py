"""Training examples for the reader from SQuAD-format JSON files (SQuAD 1.1 / 2.0 train).

Any example whose context shares a 12-word run with the benchmark data in ``../shared/bench/``
(drawn from SQuAD 2.0 dev, RGB and SummEval) is dropped, so that no figure factdesk reports
is measured on text the reader was trained on. Whole articles (by title) are held out as the
reader's own development set, for the no-answer margin and for progress during training.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from service.sentences import sentence_spans

SHINGLE_WORDS = 12
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class QAExample:
    id: str
    title: str
    question: str
    context: str
    answers: tuple[str, ...]  # gold answer texts; empty when the context does not answer
    answer_start: int  # char offset of the first answer in context; -1 when unanswerable
    source: str = ""  # the file it came from

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class LoadReport:
    files: list[tuple[str, str, int]]  # (path, sha1, questions)
    dropped_benchmark_overlap: int = 0
    dropped_duplicates: int = 0
    dropped_bad_offsets: int = 0


def file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[int]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {hash(" ".join(words))} if words else set()
    return {hash(" ".join(words[i : i + size])) for i in range(len(words) - size + 1)}


def benchmark_shingles(bench_dir: Path) -> set[int]:
    """12-word runs of every text in the benchmark files (questions' contexts, passages,
    articles, summaries)."""
    found: set[int] = set()
    for path in sorted(bench_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    for text in _strings(json.loads(line)):
                        if len(text) > 40:
                            found |= shingles(text)
    return found


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def load_squad(paths: Sequence[Path], exclude: set[int]) -> tuple[list[QAExample], LoadReport]:
    """Every question of the files, once each (by question and context), minus those whose
    context overlaps ``exclude`` (benchmark shingles) and those whose answer offset does not
    point at the answer text. The files may be SQuAD JSON (v1.1 or v2.0: SQuAD, TyDi QA GoldP,
    COVID-QA) or TweetQA's or ESTER's JSON (see ``records``)."""
    report = LoadReport(files=[])
    examples: list[QAExample] = []
    seen: set[tuple[str, str]] = set()
    for path in paths:
        count = 0
        overlap: dict[str, bool] = {}
        for example in records(path):
            count += 1
            context = example.context
            if context not in overlap:
                overlap[context] = bool(exclude) and not shingles(context).isdisjoint(exclude)
            if overlap[context]:
                report.dropped_benchmark_overlap += 1
                continue
            key = (example.question.strip(), context)
            if key in seen:
                report.dropped_duplicates += 1
                continue
            seen.add(key)
            start, text = example.answer_start, example.answers[0] if example.answers else ""
            if example.answers and context[start : start + len(text)] != text:
                report.dropped_bad_offsets += 1
                continue
            examples.append(replace(example, source=path.name))
        report.files.append((str(path), file_sha1(path), count))
    return examples, report


def records(path: Path) -> Iterator[QAExample]:
    """The questions of one file, whichever of the known layouts it has: SQuAD's
    ``{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}``, TweetQA's
    ``[{"Question", "Answer", "Tweet", "qid"}]`` (free-text answers: kept where one occurs in
    the tweet, ignoring case) or ESTER's ``[{"context", "question", "answer_texts",
    "answer_indices"}]``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "data" in data:
        for article in data["data"]:
            title = article.get("title", "")
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    yield _squad_example(qa, title, paragraph["context"])
    elif isinstance(data, list) and data and "Tweet" in data[0]:
        for item in data:
            example = _tweet_example(item)
            if example is not None:
                yield example
    elif isinstance(data, list) and data and "answer_indices" in data[0]:
        for n, item in enumerate(data):
            texts, spans = _listed(item["answer_texts"]), _listed(item["answer_indices"])
            if texts and spans:
                start = int(spans[0].strip("()").split(",")[0])
                yield QAExample(f"ester-{n}", f"ester-{item['passageID']}", item["question"],
                                item["context"], tuple(dict.fromkeys(texts)), start)
    else:
        raise ValueError(f"{path}: not a SQuAD, TweetQA or ESTER file")


def _listed(value: str | list) -> list:
    """ESTER keeps some lists as Python-literal strings ("['a', 'b']")."""
    return ast.literal_eval(value) if isinstance(value, str) else value


def _squad_example(qa: dict, title: str, context: str) -> QAExample:
    answers = [] if qa.get("is_impossible") else qa.get("answers", [])
    if not answers:
        return QAExample(str(qa["id"]), title, qa["question"], context, (), -1)
    texts = tuple(dict.fromkeys(a["text"] for a in answers))
    return QAExample(str(qa["id"]), title, qa["question"], context, texts,
                     int(answers[0]["answer_start"]))


def _tweet_example(item: dict) -> QAExample | None:
    tweet = item["Tweet"]
    lowered = tweet.lower()
    for answer in item["Answer"]:
        at = lowered.find(answer.lower().strip()) if answer.strip() else -1
        if at >= 0:
            text = tweet[at : at + len(answer.strip())]
            return QAExample(item["qid"], f"tweet-{item['qid']}", item["Question"], tweet,
                             (text,), at)
    return None


def without_answer_sentence(example: QAExample) -> str | None:
    """The context less the sentence(s) holding the answer; None when that leaves too little,
    or the answer is still there."""
    a0 = example.answer_start
    a1 = a0 + len(example.answers[0])
    kept = [example.context[a:b] for a, b in sentence_spans(example.context)
            if b <= a0 or a >= a1]
    cut = " ".join(kept)
    if len(cut) < 80 or mentions(cut, example.answers):
        return None
    return cut


# A name (capitalised words, not the question's first word) or a number in a question.
_NAME_OR_NUMBER = re.compile(r"(?<!^)\b(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*|\d[\d,.]*\d|\d)\b")


def _kind(value: str) -> str:
    if value[0].isdigit():
        return "year" if re.fullmatch(r"1\d{3}|20\d{2}", value) else "number"
    return "name"


def names_and_numbers(questions: Iterable[str]) -> dict[str, list[str]]:
    """The names and numbers questions mention, by kind (``name``, ``year``, ``number``): the
    pool ``swapped_question`` draws replacements from."""
    pool: dict[str, set[str]] = {"name": set(), "year": set(), "number": set()}
    for question in questions:
        for match in _NAME_OR_NUMBER.finditer(question):
            pool[_kind(match.group())].add(match.group())
    return {kind: sorted(values) for kind, values in pool.items()}


def swapped_question(example: QAExample, pool: dict[str, list[str]],
                     rng: random.Random) -> str | None:
    """The question with one name or number that its context also holds replaced by another
    of the same kind that the context never mentions: the context still holds a plausible
    answer, but no longer the answer (as many of SQuAD 2.0's unanswerable questions were
    written). None when the question has no such name or number."""
    context = example.context.lower()
    shared = [m for m in _NAME_OR_NUMBER.finditer(example.question)
              if m.group().lower() in context]
    if not shared:
        return None
    match = rng.choice(shared)
    choices = pool.get(_kind(match.group()), [])
    for _ in range(8):
        if not choices:
            return None
        other = rng.choice(choices)
        if other.lower() not in context and other.lower() not in match.group().lower():
            return example.question[: match.start()] + other + example.question[match.end():]
    return None


def mentions(text: str, answers: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(a.lower() in lowered for a in answers)


def split_by_title(
    examples: Iterable[QAExample], holdout_share: float,
    shares: dict[str, float] | None = None,
) -> tuple[list[QAExample], list[QAExample]]:
    """(train, held out): an article goes wholly to one side. Each source file holds out its
    own share (``shares[source]``, else ``holdout_share``), so every kind of data is represented
    on both sides: its titles are ordered by a hash and the first ``ceil(share * titles)`` are
    held out (at least one article each)."""
    examples = list(examples)
    held_titles: set[tuple[str, str]] = set()
    for source in sorted({e.source for e in examples}):
        share = (shares or {}).get(source, holdout_share)
        titles = sorted({e.title for e in examples if e.source == source},
                        key=lambda t: hashlib.sha1(t.encode()).hexdigest())
        held_titles |= {(source, t) for t in titles[:math.ceil(share * len(titles))]}
    train = [e for e in examples if (e.source, e.title) not in held_titles]
    held = [e for e in examples if (e.source, e.title) in held_titles]
    return train, held


def sample_questions(examples: Sequence[QAExample], limits: dict[str, int],
                     seed: int) -> list[QAExample]:
    """At most ``limits[source]`` questions of each source file (drawn at random, in their
    original order); sources without a limit are kept whole."""
    kept: list[QAExample] = []
    for source in dict.fromkeys(e.source for e in examples):
        of_source = [e for e in examples if e.source == source]
        limit = limits.get(source)
        if limit is not None and limit < len(of_source):
            chosen = set(random.Random(f"{seed}-{source}").sample(range(len(of_source)), limit))
            of_source = [e for n, e in enumerate(of_source) if n in chosen]
        kept.extend(of_source)
    return kept


def retrieved_elsewhere(examples: Sequence[QAExample], share: float,
                        seed: int, depth: int = 5) -> dict[str, str]:
    """For about ``share`` of the answerable questions (by id), the best passage that a BM25
    search over every context of *other* articles returns and that does not mention the answer:
    the on-topic passage an open store puts before the reader when it holds no answer."""
    from service.retrieve.lexical import LexicalIndex

    contexts: dict[str, tuple[str, str]] = {}  # id -> (title, context)
    for example in examples:
        key = hashlib.sha1(example.context.encode()).hexdigest()[:16]
        contexts.setdefault(key, (example.title, example.context))
    index = LexicalIndex()
    index.add((key, context) for key, (_, context) in contexts.items())
    rng = random.Random(seed)
    found: dict[str, str] = {}
    for example in examples:
        if not example.answerable or rng.random() >= share:
            continue
        for key, _ in index.search(example.question, depth):
            title, context = contexts[key]
            if title != example.title and not mentions(context, example.answers):
                found[example.id] = context
                break
    return found


# "How many <counted thing>": the thing a count is of.
_HOW_MANY = re.compile(r"\b[Hh]ow many ([a-z]+)")


def counted_nouns(questions: Iterable[str]) -> list[str]:
    """The nouns that "How many ..." questions count (``changed_count``'s replacements)."""
    return sorted({m.group(1) for q in questions for m in _HOW_MANY.finditer(q)
                   if len(m.group(1)) > 3})


def changed_count(example: QAExample, nouns: Sequence[str], rng: random.Random) -> str | None:
    """"How many soldiers died?" as "How many ships died?" when the context never mentions
    ships: the context still gives a count, but of something else (a changed number kind, as
    SQuAD 2.0's writers made unanswerable questions). None when the question counts nothing."""
    match = _HOW_MANY.search(example.question)
    if match is None or not nouns:
        return None
    context = example.context.lower()
    for _ in range(8):
        other = rng.choice(nouns)
        if other[:5] not in context and other[:5] != match.group(1)[:5]:
            return example.question[: match.start(1)] + other + example.question[match.end(1):]
    return None
