"""Per-question scores: SQuAD-style answer matching, citation checks and retrieval ranks.

Pure functions over plain values, so every rule can be tested with hand-made inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from service.domain import Citation
from service.scoring import contains_gold, exact_match, normalize_answer, token_f1

MRR_CUTOFF = 10


@dataclass(frozen=True)
class AnswerScores:
    em: float
    f1: float
    contains_gold: bool | None  # None for unanswerable questions


def score_answer(
    answer: str, abstained: bool, golds: Sequence[str], answerable: bool
) -> AnswerScores:
    """Score one answer; an abstention counts as the empty answer.

    For an unanswerable question EM and F1 are 1 exactly when the answer is empty.
    """
    given = "" if abstained else answer
    if not answerable:
        right = float(not normalize_answer(given))
        return AnswerScores(em=right, f1=right, contains_gold=None)
    if not golds:
        raise ValueError("an answerable question needs at least one gold answer")
    return AnswerScores(
        em=float(any(exact_match(given, g) for g in golds)),
        f1=max(token_f1(given, g) for g in golds),
        contains_gold=contains_gold(given, golds),
    )


# ---- citations ---------------------------------------------------------------------------


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where the supporting quote sits in the stored article text, if it is there."""
    start = text.find(quote)
    return (start, start + len(quote)) if start >= 0 else None


def citation_is_exact(citation: Citation, text: str) -> bool:
    return text[citation.start : citation.end] == citation.quote


def citation_supports(
    citations: Sequence[Citation],
    document_id: str,
    span: tuple[int, int] | None,
    golds: Sequence[str],
) -> bool:
    """Some citation of the article overlaps the supporting quote or quotes a gold alias."""
    for citation in citations:
        if citation.document_id != document_id:
            continue
        if span is not None and citation.start < span[1] and span[0] < citation.end:
            return True
        if contains_gold(citation.quote, golds):
            return True
    return False


# ---- retrieval -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievedSpan:
    """Where a retrieved passage sits: a chunk of a stored article."""

    chunk_id: str
    document_id: str
    start: int
    end: int
    score: float = 0.0


def supporting_rank(
    passages: Sequence[RetrievedSpan], document_id: str, span: tuple[int, int]
) -> int | None:
    """1-based rank of the first passage whose [start, end) holds the whole quote span."""
    for rank, passage in enumerate(passages, 1):
        if (
            passage.document_id == document_id
            and passage.start <= span[0]
            and span[1] <= passage.end
        ):
            return rank
    return None


def relevant_rank(
    passages: Sequence[RetrievedSpan],
    documents: Collection[str],
    strings: Sequence[str],
    text_of: Callable[[str], str],
) -> int | None:
    """1-based rank of the first passage of one of ``documents`` whose text holds one of
    ``strings`` as a run of whole tokens (any passage of those documents when none given)."""
    for rank, passage in enumerate(passages, 1):
        if passage.document_id not in documents:
            continue
        if not strings or contains_gold(text_of(passage.document_id)[passage.start : passage.end],
                                        strings):
            return rank
    return None


def contains_every(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """Every group has some alias in the text (RGB's rule for answers with several parts)."""
    return all(contains_gold(text, group) for group in groups)


def hit_at(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None, cutoff: int = MRR_CUTOFF) -> float:
    return 1.0 / rank if hit_at(rank, cutoff) and rank is not None else 0.0
