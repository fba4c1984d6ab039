"""Answer matching as SQuAD scores it: normalisation, exact match, token F1, and whether an
answer holds a gold alias. Neutral ground: the evaluation runner and the reader's training
both score with it, and the serving code may too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, strip punctuation, drop a/an/the, fold white space.

    Punctuation is every Unicode punctuation character, not only ASCII, because the
    articles use curly quotes and em dashes.
    """
    text = text.lower()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    text = ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(gold)


def token_f1(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(expected)
    return 2 * precision * recall / (precision + recall)


def contains_gold(text: str, golds: Sequence[str]) -> bool:
    """Some normalised alias occurs in the normalised text as a run of whole tokens
    (so the alias "2" is not found inside "2024")."""
    padded = f" {normalize_answer(text)} "
    return any(alias and f" {alias} " in padded for alias in map(normalize_answer, golds))
