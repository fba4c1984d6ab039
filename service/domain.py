"""The data that flows through factdesk. Every span carries char offsets into the stored
article text, so any citation can be checked with ``article.text[start:end] == quote``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class ArticleFormat(str, Enum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"


@dataclass(frozen=True)
class ParsedArticle:
    """What a parser makes of a raw upload: the answerable text and its metadata."""

    text: str
    title: str
    author: str | None = None
    published: str | None = None  # ISO 8601 date (YYYY-MM-DD) when known
    url: str | None = None
    source: str | None = None
    # Page furniture removed from ``text`` (captions, bylines, bios), kept for display only.
    furniture: tuple[str, ...] = ()
    format: str = "text"  # the format it was parsed as (given or detected)


@dataclass(frozen=True)
class Article:
    """A stored article. ``text`` is what every offset refers to."""

    id: str
    text: str
    title: str
    content_hash: str
    chunk_count: int
    format: str = ArticleFormat.TEXT.value
    author: str | None = None
    published: str | None = None
    url: str | None = None
    source: str | None = None
    ingested_at: str | None = None


@dataclass(frozen=True)
class Chunk:
    id: str
    document_id: str
    index: int
    start: int
    end: int
    text: str


class CatalogEntry(NamedTuple):
    """What a desk keeps in memory of each stored article: the chunk version its passages
    must have, and what passages, citations and filters show of it."""

    version: str
    title: str
    published: str | None = None  # YYYY-MM-DD
    source: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the scores that ranked it, and its article's date and source."""

    chunk: Chunk
    title: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None

    @property
    def heading(self) -> str:
        """"Title (Source, published 2025-04-30)", leaving out what is not known."""
        about = [x for x in (self.source,
                             f"published {self.published}" if self.published else None) if x]
        return f"{self.title} ({', '.join(about)})" if about else self.title


@dataclass(frozen=True)
class Citation:
    document_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    quote: str
    published: str | None = None  # the cited article's date, source and address
    source: str | None = None
    url: str | None = None
    # The date the quoted statement is from when the text dates it earlier than its article
    # ("In January, ..."); None when it is the article's own news.
    stated: str | None = None

    @classmethod
    def in_passage(cls, passage: Passage, start: int, end: int, quote: str) -> Citation:
        """A citation of ``article[start:end]`` (== ``quote``) read in ``passage``."""
        return cls(passage.chunk.document_id, passage.title, passage.chunk.id, start, end,
                   quote, passage.published, passage.source, passage.url)

    @property
    def dated(self) -> str | None:
        """When the quoted statement was made: its own date, else its article's."""
        return self.stated or self.published


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer with the spans that support it. An unsupported sentence
    (``supported`` false) has no citations: factdesk never shows a citation it has not checked."""

    text: str
    citations: tuple[Citation, ...] = ()
    supported: bool = True
    date: str | None = None  # in a timeline: when its statement was made (YYYY-MM-DD)


@dataclass(frozen=True)
class PromptRef:
    """Which prompt template wrote an answer (``prompts/<name>``, its declared version)."""

    name: str
    version: str


@dataclass(frozen=True)
class Answer:
    answer: str
    abstained: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    mode: str = "offline"  # "offline" or "llm": who wrote the answer actually returned
    sentences: list[AnswerSentence] = field(default_factory=list)
    # Why an LLM answer was asked for but the offline one is returned (a FallbackReason value).
    fallback_reason: str | None = None
    prompt: PromptRef | None = None
    # The date of the newest evidence the answer cites (a statement's own date, else its
    # article's); None when nothing cited is dated.
    as_of: str | None = None
    # Older figures for the same thing that the answer's newer evidence replaces.
    supersedes: list[Citation] = field(default_factory=list)


class AnswerMode(str, Enum):
    """What the caller asks for; ``auto`` uses the LLM when one is configured."""

    OFFLINE = "offline"
    LLM = "llm"
    AUTO = "auto"


class FallbackReason(str, Enum):
    LLM_TIMEOUT = "llm_timeout"
    LLM_UNAVAILABLE = "llm_unavailable"
    LLM_ERROR = "llm_error"
    LLM_EMPTY = "llm_empty"
    NO_SUPPORTED_SENTENCE = "no_supported_sentence"


@dataclass(frozen=True)
class AnswerDelta:
    """Streaming: text the model has just written (unverified; the final answer is what counts)."""

    text: str


@dataclass(frozen=True)
class CitationFound:
    """Streaming: a verified citation of sentence number ``sentence`` of the final answer."""

    sentence: int
    citation: Citation


AskEvent = AnswerDelta | CitationFound | Answer


@dataclass(frozen=True)
class Summary:
    """A summary: its sentences, each citing the spans it comes from (or flagged unsupported)."""

    summary: str
    sentences: list[AnswerSentence]
    document_ids: list[str]
    mode: str = "offline"  # who wrote it: "offline" (extractive) or "llm"
    fallback_reason: str | None = None
    prompt: PromptRef | None = None
    timeline: bool = False  # the sentences are dated and in date order


SummaryEvent = AnswerDelta | CitationFound | Summary


class IngestStatus(str, Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    UPDATED = "updated"


@dataclass(frozen=True)
class IngestResult:
    id: str
    title: str
    chunks: int
    status: IngestStatus
