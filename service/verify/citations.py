"""Check an LLM's answer against the articles: parse its [n] markers, find for each sentence the
span of a cited passage that supports it, and return that span as the citation.

The model's own claim about its sources is only a hint. A sentence is supported when one
sentence of a passage it cites (every passage, when it cites none that exist) matches it both
in words (stemmed content terms, numbers kept) and in meaning (MiniLM cosine); a number the
sentence states and the span lacks halves the score, since a changed figure is the typical
unsupported claim. The citation is cut from the stored article text, never from model output,
so ``text[start:end] == quote`` holds whatever the model wrote, and text inside an article
("ignore previous instructions ...") cannot change what counts as support.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from service.domain import Citation, Passage
from service.embed.base import SENTENCE_EMBED_CHARS
from service.retrieve.lexical import lexical_terms
from service.sentences import sentence_spans

# Calibrated on hand-made claims about the seed article (some kept in
# tests/verify/test_citations.py): 13 paraphrases of its sentences scored 0.66-0.97 against
# their best span, 10 unsupported claims (a changed number, other facts in the same words,
# off-topic text, an injected instruction) 0.04-0.61. Similarity is not entailment: a claim
# that reverses who did what in the same words ("Ukraine recaptured the Kursk region", when
# Russia did) scores like a paraphrase (0.76-0.84) and passes; no entailment model ships in a
# wheel here. What always holds is that the cited span is real and the closest one there is.
SUPPORT_THRESHOLD = 0.62
LEXICAL_WEIGHT = 0.5
DENSE_WEIGHT = 0.5
MISSING_NUMBER_FACTOR = 0.5

_NUMBERS = r"\d{1,3}(?:\s*(?:,|and|&)\s*\d{1,3})*"
_MARKER_SRC = rf"\[\s*(?:(?:passages?|source|doc(?:ument)?)\s*)?{_NUMBERS}\s*\]"
MARKER = re.compile(_MARKER_SRC, re.IGNORECASE)
_MARKER_NUMBERS = re.compile(r"\d{1,3}")
# Markers written after the full stop ("It rained. [2]") belong to the sentence before.
_MARKERS_AFTER_END = re.compile(rf"([.!?][\"'”’)]*)((?:[ \t]*{_MARKER_SRC})+)", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_LEADING_LABEL = re.compile(r"^(?:answer|response)\s*:\s*", re.IGNORECASE)
_LIST_NUMBER = re.compile(r"^\d{1,2}[.)]$")
_DIGITS = re.compile(r"\d")


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class DraftSentence:
    """A sentence as the model wrote it, markers taken out."""

    text: str
    markers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Support:
    """The best-matching span found for one sentence, and how well it matches."""

    citation: Citation
    passage: int  # 1-based number of the passage in the prompt
    score: float
    lexical: float
    dense: float
    threshold: float = SUPPORT_THRESHOLD

    @property
    def supported(self) -> bool:
        return self.score >= self.threshold


def parse_markers(text: str, passage_count: int | None = None) -> list[int]:
    """The passage numbers cited in ``text`` ("[1]", "[1, 3]", "[2][4]"), first mention first.
    With ``passage_count``, numbers that match no passage (0, or past the last) are ignored."""
    found: list[int] = []
    for marker in MARKER.finditer(text):
        for digits in _MARKER_NUMBERS.findall(marker.group(0)):
            n = int(digits)
            if passage_count is not None and not 1 <= n <= passage_count:
                continue
            if n not in found:
                found.append(n)
    return found


def split_draft(text: str) -> list[DraftSentence]:
    """The model's answer as sentences, each with the markers written in or right after it."""
    moved = _MARKERS_AFTER_END.sub(lambda m: m.group(2) + m.group(1), text.strip())
    sentences: list[DraftSentence] = []
    for start, end in sentence_spans(moved):
        piece = moved[start:end]
        markers = tuple(parse_markers(piece))
        clean = _clean(MARKER.sub(" ", piece))
        if not any(ch.isalnum() for ch in clean) or _LIST_NUMBER.match(clean):
            if markers and sentences:  # a marker on a line of its own
                last = sentences[-1]
                merged = tuple(dict.fromkeys(last.markers + markers))
                sentences[-1] = DraftSentence(last.text, merged)
            continue
        sentences.append(DraftSentence(clean, markers))
    return sentences


def _clean(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    text = _LEADING_LABEL.sub("", text).lstrip("-*• ").strip()
    return text


def verify_citation(citation: Citation, article_text: str) -> bool:
    """A citation is exact when the stored article holds its quote at its offsets."""
    return (0 <= citation.start < citation.end <= len(article_text)
            and article_text[citation.start : citation.end] == citation.quote)


def candidate_spans(passage: Passage, article_text: str) -> list[tuple[int, int]]:
    """The sentences of the stored article inside the passage's chunk, as article offsets."""
    return sentence_spans(article_text, passage.chunk.start, passage.chunk.end)


def locate_support(
    sentences: Sequence[DraftSentence],
    passages: Sequence[Passage],
    texts: dict[str, str],
    embedder: Embedder,
    threshold: float = SUPPORT_THRESHOLD,
) -> list[Support | None]:
    """For each sentence, the best span among the passages it cites (all passages when it
    cites none that exist); ``None`` when those passages hold no sentence at all."""
    spans: dict[tuple[str, int, int], int] = {}  # (document, start, end) -> row
    owners: list[tuple[int, Passage]] = []  # row -> (passage number, passage)
    per_passage: list[list[int]] = []
    for number, passage in enumerate(passages, 1):
        text = texts[passage.chunk.document_id]
        rows = []
        for start, end in candidate_spans(passage, text):
            key = (passage.chunk.document_id, start, end)
            if key not in spans:
                spans[key] = len(owners)
                owners.append((number, passage))
            rows.append(spans[key])
        per_passage.append(rows)
    if not sentences:
        return []
    keys = list(spans)
    span_texts = [texts[d][s:e] for d, s, e in keys]
    cut = SENTENCE_EMBED_CHARS
    vectors = np.asarray(embedder.embed(
        [s.text[:cut] for s in sentences] + [t[:cut] for t in span_texts]))
    sentence_vectors, span_vectors = vectors[: len(sentences)], vectors[len(sentences):]
    span_terms = [set(lexical_terms(t)) for t in span_texts]

    results: list[Support | None] = []
    for i, sentence in enumerate(sentences):
        cited = [n for n in sentence.markers if 1 <= n <= len(passages)]
        numbers = cited or list(range(1, len(passages) + 1))
        rows = sorted({row for n in numbers for row in per_passage[n - 1]})
        if not rows:
            results.append(None)
            continue
        terms = set(lexical_terms(sentence.text))
        best: Support | None = None
        for row in rows:
            lexical = _overlap(terms, span_terms[row])
            dense = float(np.clip(sentence_vectors[i] @ span_vectors[row], 0.0, 1.0))
            score = LEXICAL_WEIGHT * lexical + DENSE_WEIGHT * dense
            if _numbers_missing(terms, span_terms[row]):
                score *= MISSING_NUMBER_FACTOR
            if best is None or score > best.score:
                _, start, end = keys[row]
                number, passage = owners[row]
                # The same span may sit in two overlapping chunks; cite the one the model named.
                for n in numbers:
                    if row in per_passage[n - 1]:
                        number, passage = n, passages[n - 1]
                        break
                citation = Citation.in_passage(passage, start, end, span_texts[row])
                best = Support(citation, number, round(score, 4), round(lexical, 4),
                               round(dense, 4), threshold)
        results.append(best)
    return results


def support_score(sentence: str, span: str, embedder: Embedder) -> float:
    """The score ``locate_support`` gives ``span`` for ``sentence`` (for calibration)."""
    cut = SENTENCE_EMBED_CHARS
    vectors = np.asarray(embedder.embed([sentence[:cut], span[:cut]]))
    terms, span_terms = set(lexical_terms(sentence)), set(lexical_terms(span))
    score = (LEXICAL_WEIGHT * _overlap(terms, span_terms)
             + DENSE_WEIGHT * float(np.clip(vectors[0] @ vectors[1], 0.0, 1.0)))
    return score * MISSING_NUMBER_FACTOR if _numbers_missing(terms, span_terms) else score


def _overlap(terms: set[str], span_terms: set[str]) -> float:
    """Share of the sentence's content terms found in the span."""
    return len(terms & span_terms) / len(terms) if terms else 0.0


def _numbers_missing(terms: set[str], span_terms: set[str]) -> bool:
    return any(_DIGITS.search(t) and t not in span_terms for t in terms)
