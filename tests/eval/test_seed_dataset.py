"""Validates the hand-written evaluation set ``eval/datasets/seed.yaml``.

No model is needed: these tests check the file's shape, that every quote is copied exactly
from the seed article's body (never from page furniture), that the answers can be found in
their quotes, and that the set is large and varied enough to be worth running.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "eval" / "datasets" / "seed.yaml"

TYPES = {"number", "date", "person", "organisation", "place", "other"}
DIFFICULTIES = {"easy", "paraphrase", "multi-sentence", "attribution", "hard"}
# Difficulties where the answer may legitimately be absent from the quote (the note says why).
INDIRECT = {"multi-sentence", "paraphrase"}
REQUIRED = {"id", "question", "answers", "quote", "type", "answerable", "difficulty"}
OPTIONAL = {"note", "stale_answers"}

MIN_ITEMS = 64
MIN_UNANSWERABLE = 14
MIN_MULTI_SENTENCE = 6
# Minimums per type, counted over answerable items only.
MIN_PER_TYPE = {"number": 12, "date": 8, "person": 10, "organisation": 8, "place": 6}

# Markers of page furniture lines that the parser strips from the answerable text.
FURNITURE_MARKERS = ("Ahn Young-joon/AP", "UK-based journalist")
FURNITURE_LINES = {"Chris Summers", "Updated:", "0:00", "Author"}


@pytest.fixture(scope="module")
def dataset() -> dict:
    with DATASET.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), "top level must be a mapping"
    return data


@pytest.fixture(scope="module")
def questions(dataset: dict) -> list[dict]:
    items = dataset.get("questions")
    assert isinstance(items, list) and items, "`questions` must be a non-empty list"
    return items


@pytest.fixture(scope="module")
def article_text(dataset: dict) -> str:
    return (REPO / dataset["article"]).read_text(encoding="utf-8")


def _furniture_spans(text: str) -> list[tuple[int, int]]:
    """Char spans of the furniture lines: the header block up to "0:00", the photo caption,
    and the author bio block from the repeated byline to the end."""
    spans: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    pos = 0
    starts = []
    for line in lines:
        starts.append(pos)
        pos += len(line)
    # Header: everything up to and including the first "0:00" line.
    for i, line in enumerate(lines):
        if line.strip() == "0:00":
            spans.append((0, starts[i] + len(line)))
            break
    # Bio: from the first byline line after the header to the end.
    header_end = spans[0][1] if spans else 0
    for i, line in enumerate(lines):
        if starts[i] >= header_end and line.strip() in FURNITURE_LINES:
            spans.append((starts[i], len(text)))
            break
    for i, line in enumerate(lines):
        if any(m in line for m in FURNITURE_MARKERS):
            spans.append((starts[i], starts[i] + len(line)))
    return spans


def _body_occurrences(text: str, quote: str) -> list[int]:
    furniture = _furniture_spans(text)
    found = []
    for m in re.finditer(re.escape(quote), text):
        s, e = m.start(), m.end()
        if not any(fs <= s and e <= fe for fs, fe in furniture):
            found.append(s)
    return found


def _body_paragraphs(text: str) -> list[str]:
    """Body paragraphs: non-empty lines outside the furniture that read as prose (they end in
    sentence punctuation), which leaves out the two section headings."""
    furniture = _furniture_spans(text)
    paras = []
    pos = 0
    for line in text.splitlines(keepends=True):
        s, e = pos, pos + len(line)
        pos = e
        body = line.strip()
        if not body or any(fs <= s and e <= fe for fs, fe in furniture):
            continue
        if body.endswith((".", "”", "?", "!")):
            paras.append(body)
    return paras


def test_top_level(dataset: dict) -> None:
    assert dataset.get("version") == 1
    assert dataset.get("article") == "seeds/000_60f6bed6cec462ff.txt"
    assert (REPO / dataset["article"]).is_file()


def test_ids_unique_and_well_formed(questions: list[dict]) -> None:
    ids = [q.get("id") for q in questions]
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    bad = [i for i in ids if not (isinstance(i, str) and re.fullmatch(r"seed-\d{3}", i))]
    assert not bad, f"ids must look like seed-001: {bad}"


def test_fields_and_values(questions: list[dict]) -> None:
    problems = []
    for q in questions:
        qid = q.get("id")
        keys = set(q)
        if missing := REQUIRED - keys:
            problems.append(f"{qid}: missing {sorted(missing)}")
        if extra := keys - REQUIRED - OPTIONAL:
            problems.append(f"{qid}: unknown fields {sorted(extra)}")
        if not (isinstance(q.get("question"), str) and q["question"].strip()):
            problems.append(f"{qid}: empty question")
        if q.get("type") not in TYPES:
            problems.append(f"{qid}: bad type {q.get('type')!r}")
        if q.get("difficulty") not in DIFFICULTIES:
            problems.append(f"{qid}: bad difficulty {q.get('difficulty')!r}")
        if not isinstance(q.get("answerable"), bool):
            problems.append(f"{qid}: answerable must be a boolean")
        answers = q.get("answers")
        if not isinstance(answers, list) or not all(
            isinstance(a, str) and a.strip() for a in answers
        ):
            problems.append(f"{qid}: answers must be a list of non-empty strings")
        elif len(set(answers)) != len(answers):
            problems.append(f"{qid}: duplicate answer aliases")
        if "note" in q and not (isinstance(q["note"], str) and q["note"].strip()):
            problems.append(f"{qid}: empty note")
        if q.get("answerable") is True:
            if not answers:
                problems.append(f"{qid}: answerable item needs at least one answer")
            if not (isinstance(q.get("quote"), str) and q["quote"].strip()):
                problems.append(f"{qid}: answerable item needs a quote")
        elif q.get("answerable") is False:
            if answers != []:
                problems.append(f"{qid}: unanswerable item must have answers: []")
            if q.get("quote") is not None:
                problems.append(f"{qid}: unanswerable item must have quote: null")
    assert not problems, "\n".join(problems)


def test_quotes_are_exact_body_substrings(questions: list[dict], article_text: str) -> None:
    problems = []
    for q in questions:
        if q.get("answerable") is not True:
            continue
        quote = q["quote"]
        if "\n" in quote:
            problems.append(f"{q['id']}: quote spans paragraphs")
        if quote not in article_text:
            problems.append(f"{q['id']}: quote not found verbatim in the article: {quote!r}")
        elif not _body_occurrences(article_text, quote):
            problems.append(f"{q['id']}: quote occurs only in page furniture: {quote!r}")
        if any(m in quote for m in FURNITURE_MARKERS):
            problems.append(f"{q['id']}: quote taken from furniture")
    assert not problems, "\n".join(problems)


def test_answers_supported_by_quote(questions: list[dict]) -> None:
    problems = []
    for q in questions:
        if q.get("answerable") is not True:
            continue
        quote = q["quote"].casefold()
        if any(a.casefold() in quote for a in q["answers"]):
            continue
        if q["difficulty"] in INDIRECT and q.get("note"):
            continue
        problems.append(
            f"{q['id']}: no answer alias occurs in the quote "
            f"(allowed only for {sorted(INDIRECT)} with a note)"
        )
    assert not problems, "\n".join(problems)


def test_multi_sentence_items_explain_the_other_sentence(questions: list[dict]) -> None:
    multi = [q for q in questions if q.get("difficulty") == "multi-sentence"]
    assert len(multi) >= MIN_MULTI_SENTENCE
    assert all(q.get("note") for q in multi), "multi-sentence items must name the other sentence"


def test_counts(questions: list[dict]) -> None:
    assert len(questions) >= MIN_ITEMS
    unanswerable = [q for q in questions if q.get("answerable") is False]
    assert len(unanswerable) >= MIN_UNANSWERABLE
    types = Counter(q["type"] for q in questions if q.get("answerable") is True)
    short = {t: (types[t], n) for t, n in MIN_PER_TYPE.items() if types[t] < n}
    assert not short, f"too few answerable items of type (have, need): {short}"


def test_every_body_paragraph_is_covered(questions: list[dict], article_text: str) -> None:
    quotes = [q["quote"] for q in questions if q.get("answerable") is True]
    paras = _body_paragraphs(article_text)
    assert len(paras) >= 20, "body paragraph detection looks broken"
    uncovered = [p[:70] for p in paras if not any(quote in p for quote in quotes)]
    assert not uncovered, "paragraphs with no question:\n" + "\n".join(uncovered)


def test_furniture_detection_matches_seed(article_text: str) -> None:
    """Guards the helper above: caption and bio are furniture, the first and last body
    paragraphs are not."""
    spans = _furniture_spans(article_text)

    def inside(s: str) -> bool:
        i = article_text.index(s)
        return any(fs <= i and i + len(s) <= fe for fs, fe in spans)

    assert inside("Ahn Young-joon/AP")
    assert inside("UK-based journalist")
    assert not inside("North Korea has suffered 4,700 casualties, including 600 deaths")
    assert not inside("The Associated Press and Reuters contributed to this report.")
