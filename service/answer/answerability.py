"""Is the reader's answer right? A calibrated probability over all the evidence it read.

The reader scores spans passage by passage; whether the articles answer the question at all
is a judgement over everything retrieved. Each candidate span (the reader's best few in each
passage read) is described by what the reader, the retriever and the question say of it:

- the reader: the span's score, its passage's no-answer score, the margin between them, how
  far below the best margin of any passage it stands, the lowest no-answer score of all the
  passages, and how many other passages give the same answer;
- the retriever: the passage's rank, its dense similarity and the best one retrieved;
- the question: the share of its content words, and of its names and numbers, found in the
  sentence the span stands in (and in the passage), whether the span has the shape the
  question asks for (a number, a date, a name), and how much of the span only repeats it.

A logistic model fitted on held-out questions in an open store (``factdesk calibrate-reader``,
``model/answerability.json``) turns these into the probability that the span is a right
answer. The answerer's chosen span (best margin, less a rank weight) is judged by it: that
probability is the answer's ``confidence``, and it abstains below a threshold the caller may
set.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.answer.question import AnswerType, Question
from service.reader.reader import ReaderSpan, Reading
from service.retrieve.terms import lexical_terms
from service.sentences import enclosing_sentences

FEATURES = (
    "margin", "span_score", "null_score", "margin_below_best", "min_null", "rank",
    "span_rank", "agreement", "dense", "dense_best", "dense_below_best", "terms_in_sentence",
    "key_terms_in_sentence", "terms_in_passage", "key_terms_missing", "type_fits",
    "type_clashes", "answer_words", "answer_in_question", "no_key_terms",
)

_DIGIT = re.compile(r"\d")
_YEAR_OR_MONTH = re.compile(
    r"\b(?:1\d{3}|20\d{2}|January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday|century|centuries)\b", re.IGNORECASE)
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|billion|dozen|half|several)\b", re.IGNORECASE)
_CAPITAL = re.compile(r"\b[A-Z]")


@dataclass(frozen=True)
class Candidate:
    span: ReaderSpan
    features: tuple[float, ...]  # in FEATURES order


@dataclass(frozen=True)
class PassageEvidence:
    """What the answerer knows of one passage it read."""

    text: str  # the passage text, ``article[start:end]``
    start: int  # its offset in the article
    article: str  # the article's text
    dense: float | None  # dense similarity of the passage to the question


def candidates(question: Question, reading: Reading,
               evidence: Sequence[PassageEvidence]) -> list[Candidate]:
    """Every span the reader found, described by ``FEATURES``."""
    if not reading.spans:
        return []
    nulls = reading.null_scores
    margins = [s.score - nulls[s.passage] for s in reading.spans]
    best_margin = max(margins)
    min_null = min(nulls)
    denses = [e.dense if e.dense is not None else 0.0 for e in evidence]
    dense_best = max(denses) if denses else 0.0
    answers_by_passage: dict[int, set[str]] = {}
    for span in reading.spans:
        answers_by_passage.setdefault(span.passage, set()).add(_normal(span.text))
    order = sorted(range(len(margins)), key=lambda i: -margins[i])
    span_rank = {i: r for r, i in enumerate(order)}
    terms = set(question.terms)
    keys = set(question.key_terms)
    sentence_cache: dict[tuple[int, int], set[str]] = {}
    passage_terms = [set(lexical_terms(e.text)) for e in evidence]
    found = []
    for index, (span, margin) in enumerate(zip(reading.spans, margins)):
        item = evidence[span.passage]
        sentence = _sentence_terms(item, span, sentence_cache)
        answer_terms = set(lexical_terms(span.text))
        agreement = sum(1 for p, texts in answers_by_passage.items()
                        if p != span.passage and _normal(span.text) in texts)
        fits, clashes = type_fit(question.answer_type, span.text)
        values = {
            "margin": margin,
            "span_score": span.score,
            "null_score": nulls[span.passage],
            "margin_below_best": best_margin - margin,
            "min_null": min_null,
            "rank": float(span.passage),
            "span_rank": float(min(span_rank[index], 10)),
            "agreement": float(min(agreement, 3)),
            "dense": denses[span.passage] if denses else 0.0,
            "dense_best": dense_best,
            "dense_below_best": dense_best - (denses[span.passage] if denses else 0.0),
            "terms_in_sentence": _share(terms - answer_terms, sentence),
            "key_terms_in_sentence": _share(keys - answer_terms, sentence),
            "terms_in_passage": _share(terms - answer_terms, passage_terms[span.passage]),
            "key_terms_missing": float(len((keys - answer_terms) - passage_terms[span.passage])),
            "type_fits": fits,
            "type_clashes": clashes,
            "answer_words": math.log1p(len(span.text.split())),
            "answer_in_question": _share(answer_terms, terms),
            "no_key_terms": float(not keys),
        }
        found.append(Candidate(span, tuple(values[name] for name in FEATURES)))
    return found


def _normal(text: str) -> str:
    return " ".join(lexical_terms(text))


def _share(wanted: set[str], held: set[str]) -> float:
    return len(wanted & held) / len(wanted) if wanted else 1.0


def _sentence_terms(item: PassageEvidence, span: ReaderSpan,
                    cache: dict[tuple[int, int], set[str]]) -> set[str]:
    """Terms of the sentence(s) of the article the span stands in."""
    key = enclosing_sentences(item.article, span.start, span.end)
    if key not in cache:
        cache[key] = set(lexical_terms(item.article[key[0]:key[1]]))
    return cache[key]


def type_fit(wanted: AnswerType, answer: str) -> tuple[float, float]:
    """(fits, clashes): whether the span has the shape the question asks for, or one it
    cannot have (a number asked, no number given; a name asked, a bare number given)."""
    has_number = bool(_DIGIT.search(answer) or _NUMBER_WORD.search(answer))
    has_date = bool(_YEAR_OR_MONTH.search(answer))
    has_name = bool(_CAPITAL.search(answer))
    if wanted is AnswerType.NUMBER:
        return float(has_number), float(not has_number)
    if wanted is AnswerType.DATE:
        return float(has_date), float(not (has_date or has_number))
    if wanted in (AnswerType.PERSON, AnswerType.AGENT, AnswerType.ORGANISATION,
                  AnswerType.PLACE):
        bare_number = has_number and not has_name
        return float(has_name), float(bare_number or has_date and not has_name)
    return 0.5, 0.0


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression over standardized ``FEATURES``: how likely a span is a right
    answer (``span_score``, which ranks candidates), and that score recalibrated for the best
    span of a question (``confidence``: the best of many candidates is optimistic)."""

    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float  # the confidence below which the answerer abstains by default
    top_scale: float = 1.0
    top_bias: float = 0.0

    @classmethod
    def load(cls, path: Path) -> AnswerabilityModel | None:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on other features: refit it "
                             "(factdesk calibrate-reader)")
        return cls(tuple(data["means"]), tuple(data["scales"]), tuple(data["weights"]),
                   float(data["bias"]), float(data["threshold"]),
                   float(data.get("top_scale", 1.0)), float(data.get("top_bias", 0.0)))

    def span_score(self, features: Sequence[float]) -> float:
        """The span model's log-odds that the span is right."""
        return self.bias + sum(w * (x - m) / s for w, x, m, s in
                               zip(self.weights, features, self.means, self.scales))

    def confidence(self, span_score: float) -> float:
        """P(right) for the best span of a question, from its ``span_score``."""
        z = self.top_scale * span_score + self.top_bias
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
