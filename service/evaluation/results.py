"""What one eval question produced and how it scored; plain data, written to the report."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CitationRecord:
    document_id: str
    chunk_id: str
    start: int
    end: int
    quote: str
    exact: bool


@dataclass
class QuestionScores:
    em: float = 0.0
    f1: float = 0.0
    contains_gold: bool | None = None  # answerable questions only
    abstained_correctly: bool | None = None  # unanswerable questions only
    citation_support: bool | None = None  # answerable questions only
    citation_exact: float | None = None  # share of this answer's citations; None if none
    quote_found: bool | None = None  # the supporting quote is in the stored text
    supporting_rank: int | None = None
    recall_at_1: bool | None = None
    recall_at_5: bool | None = None
    recall_at_k: bool | None = None
    reciprocal_rank: float | None = None  # MRR@10 contribution


@dataclass
class QuestionResult:
    id: str
    question: str
    type: str
    difficulty: str
    answerable: bool
    expected: list[str]
    quote: str | None
    stale_answers: list[str] = field(default_factory=list)
    answer: str = ""
    abstained: bool = False
    confidence: float = 0.0
    citations: list[CitationRecord] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)  # chunk ids, best first
    latency_ms: float | None = None
    error: str | None = None
    mode: str | None = None  # the mode that answered (an LLM run may fall back to offline)
    fallback_reason: str | None = None
    scores: QuestionScores = field(default_factory=QuestionScores)
