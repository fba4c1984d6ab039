"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator
from pydantic_core import PydanticCustomError

from service.domain import (
    Answer,
    AnswerSentence,
    Article,
    Citation,
    IngestResult,
    Passage,
    Summary,
)
from service.errors import InvalidInput
from service.scope import Scope
from service.text_rules import TEXT_PATTERN, problem


def _declare_text_rule(schema: dict[str, Any]) -> None:
    """The OpenAPI ``pattern`` of every text field (and list of texts) of a request body."""
    for field in schema.get("properties", {}).values():
        for variant in [field, *field.get("anyOf", [])]:
            if variant.get("type") == "string" and "format" not in variant:
                variant.setdefault("pattern", TEXT_PATTERN)
            items = variant.get("items", {})
            if variant.get("type") == "array" and items.get("type") == "string":
                items.setdefault("pattern", TEXT_PATTERN)


class TextIn(BaseModel):
    """A request body whose every text field keeps to service/text_rules.py: a field with a
    lone surrogate, a NUL or another control character is a 422 naming it and the position."""

    model_config = ConfigDict(json_schema_extra=_declare_text_rule)

    @model_validator(mode="after")
    def _text_rules(self) -> TextIn:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                _check(name, value)
            elif isinstance(value, list):
                for n, item in enumerate(value):
                    if isinstance(item, str):
                        _check(f"{name}[{n}]", item)
        return self


def _check(field: str, value: str) -> None:
    found = problem(field, value)
    if found is not None:
        raise PydanticCustomError("invalid_text", found)


class DocumentIn(TextIn):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., description="The article: plain text, Markdown or HTML.")
    title: str | None = None
    url: str | None = None
    published: str | None = Field(None, description="Publication date, e.g. 2025-04-30.")
    source: str | None = None
    author: str | None = None
    format: Literal["text", "markdown", "html"] | None = Field(
        None, description="Detected from the content when left out."
    )
    id: str | None = Field(None, description="Stable id; derived from url or content if absent.")


class IngestOut(BaseModel):
    id: str
    title: str
    chunks: int
    status: Literal["created", "unchanged", "updated"]

    @classmethod
    def of(cls, result: IngestResult) -> IngestOut:
        return cls(id=result.id, title=result.title, chunks=result.chunks,
                   status=result.status.value)


class DocumentBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(
        ..., description="The articles, at most FACTDESK_MAX_BATCH_DOCUMENTS (100 by default), "
        "each with a distinct id.")


class BatchItemError(BaseModel):
    code: str
    message: str


class BatchItemOut(BaseModel):
    index: int = Field(..., description="The article's place in the request, from 0.")
    id: str | None = None  # absent when the article was refused before it had one
    status: Literal["created", "unchanged", "updated", "error"]
    title: str | None = None
    chunks: int | None = None
    error: BatchItemError | None = None  # when status is error


class DocumentBatchOut(BaseModel):
    results: list[BatchItemOut]
    created: int
    updated: int
    unchanged: int
    errors: int


class DocumentSummary(BaseModel):
    id: str
    title: str
    chunks: int
    format: str
    author: str | None = None
    published: str | None = None
    url: str | None = None
    source: str | None = None
    ingested_at: str | None = None

    @classmethod
    def of(cls, article: Article) -> DocumentSummary:
        return cls(id=article.id, title=article.title, chunks=article.chunk_count,
                   format=article.format, author=article.author, published=article.published,
                   url=article.url, source=article.source, ingested_at=article.ingested_at)


class DocumentOut(DocumentSummary):
    chars: int
    text: str = Field(..., description="The stored text that every citation offset refers to.")

    @classmethod
    def of(cls, article: Article) -> DocumentOut:
        return cls(**DocumentSummary.of(article).model_dump(), chars=len(article.text),
                   text=article.text)


class DocumentList(BaseModel):
    documents: list[DocumentSummary]
    total: int


class FilterFields(TextIn):
    """Which articles a request draws on, by date and source (applied before ranking)."""

    published_after: date | None = Field(
        None, description="Only articles published on or after this date (YYYY-MM-DD).")
    published_before: date | None = Field(
        None, description="Only articles published on or before this date (YYYY-MM-DD).")
    sources: list[str] | None = Field(
        None, description="Only articles from these sources (matched ignoring case).")
    as_of: date | None = Field(
        None, description="Answer as it was known on this date (YYYY-MM-DD): articles "
        "published later are left out.")

    def scope(self, document_ids: list[str] | None = None) -> Scope:
        """The checked scope; a bad date names its field (422)."""
        return Scope.of(document_ids, self.published_after, self.published_before,
                        self.sources, self.as_of)


class AskIn(FilterFields):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="A factual question about the stored articles.")
    top_k: int | None = Field(None, description="How many passages to retrieve (1-50).")
    document_ids: list[str] | None = Field(None, description="Search only these documents.")
    min_confidence: float | None = Field(
        None, ge=0.0, le=1.0, description="Abstain when the offline answer's confidence (a "
        "calibrated probability that it is right) is below this; default: the server's "
        "setting, else the threshold fitted with the model.")
    mode: Literal["offline", "llm", "auto"] = Field(
        "auto", description="`auto` uses the LLM when one is configured and falls back to the "
        "offline answerer when it fails; `llm` reports the LLM's failure as a 502/503/504 error; "
        "`offline` never calls the LLM.")
    stream: bool = Field(
        False, description="Answer with server-sent events: `delta` events while the LLM "
        "writes, then `citation` events, then one `answer` event holding the usual response.")


class CitationOut(BaseModel):
    document_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    quote: str
    published: str | None = Field(None, description="The cited article's publication date.")
    source: str | None = None
    url: str | None = None
    stated: str | None = Field(
        None, description="When the text dates the quoted statement earlier than its article "
        "(\"In January, ...\"): that date.")

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        return cls(**c.__dict__)


class SentenceOut(BaseModel):
    text: str
    citations: list[CitationOut]
    supported: bool = Field(..., description="Some cited passage holds a span that supports "
                            "this sentence; an unsupported sentence has no citations.")
    date: str | None = Field(
        None, description="In a timeline: the date (YYYY-MM-DD) of the sentence's statement, "
        "its article's publication date or an earlier one the text gives it; null when the "
        "article is undated, and outside timelines.")

    @classmethod
    def of(cls, s: AnswerSentence) -> SentenceOut:
        return cls(text=s.text, citations=[CitationOut.of(c) for c in s.citations],
                   supported=s.supported, date=s.date)


class PromptOut(BaseModel):
    name: str
    version: str


class PassageOut(BaseModel):
    document_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, p: Passage) -> PassageOut:
        return cls(document_id=p.chunk.document_id, title=p.title, chunk_id=p.chunk.id,
                   start=p.chunk.start, end=p.chunk.end, text=p.chunk.text, score=p.score,
                   dense_score=p.dense_score, lexical_score=p.lexical_score,
                   published=p.published, source=p.source, url=p.url)


class AskOut(BaseModel):
    answer: str
    abstained: bool
    confidence: float
    citations: list[CitationOut]
    passages: list[PassageOut]
    mode: Literal["offline", "llm"] = Field(..., description="Who wrote this answer.")
    sentences: list[SentenceOut]
    fallback_reason: str | None = Field(
        None, description="Why the offline answer is returned although the LLM was asked: "
        "llm_timeout, llm_unavailable, llm_error, llm_empty or no_supported_sentence.")
    prompt: PromptOut | None = Field(None, description="The prompt template of an LLM answer.")
    as_of: str | None = Field(
        None, description="The date of the newest evidence the answer cites (YYYY-MM-DD).")
    supersedes: list[CitationOut] = Field(
        default_factory=list, description="Older figures for the same thing, replaced by the "
        "answer's newer evidence, each with its citation.")

    @classmethod
    def of(cls, a: Answer) -> AskOut:
        return cls(answer=a.answer, abstained=a.abstained, confidence=a.confidence,
                   citations=[CitationOut.of(c) for c in a.citations],
                   passages=[PassageOut.of(p) for p in a.passages],
                   mode="llm" if a.mode == "llm" else "offline",
                   sentences=[SentenceOut.of(s) for s in a.sentences],
                   fallback_reason=a.fallback_reason,
                   prompt=PromptOut(name=a.prompt.name, version=a.prompt.version)
                   if a.prompt else None,
                   as_of=a.as_of, supersedes=[CitationOut.of(c) for c in a.supersedes])


# What ``SummarizeIn.targets`` requires, said in the schema: exactly one of the three targets
# is given (present and not null), or none of them and a filter.
_TARGETS = [("document_id", "string"), ("document_ids", "array"), ("question", "string")]
_FILTERS = [("published_after", "string"), ("published_before", "string"),
            ("sources", "array"), ("as_of", "string")]
ONE_TARGET: list[JsonValue] = [
    *({"required": [name], "properties": {name: {"type": kind}}} for name, kind in _TARGETS),
    {"not": {"anyOf": [{"required": [name]} for name, _ in _TARGETS]},
     "anyOf": [{"required": [name], "properties": {name: {"type": kind}}}
               for name, kind in _FILTERS]},
]


def _summarize_schema(schema: dict[str, Any]) -> None:
    _declare_text_rule(schema)
    schema["oneOf"] = ONE_TARGET


class SummarizeIn(FilterFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_summarize_schema)

    document_id: str | None = Field(None, description="Summarize this document.")
    document_ids: list[str] | None = Field(
        None, description="Summarize these documents together: each one's main point, a fact "
        "two of them state said once and cited from both.")
    question: str | None = Field(
        None, description="Summarize what the stored articles say about this question.")
    max_sentences: int | None = Field(
        None, description="At most this many sentences (default 3 when max_words is not given).")
    max_words: int | None = Field(None, description="At most this many words.")
    mode: Literal["offline", "llm", "auto"] = Field(
        "auto", description="`offline`: sentences chosen from the articles; `llm`: written by "
        "the LLM and checked sentence by sentence; `auto`: the LLM when configured, falling "
        "back to the offline summary.")
    stream: bool = Field(
        False, description="Server-sent events: `delta` while the LLM writes, `citation`, then "
        "one `summary` event holding the usual response.")
    timeline: bool = Field(
        False, description="A timeline: the articles' own sentences, one or more per article, "
        "each with its `date`, oldest first (two per article when no limit is given). It is "
        "extractive: mode `llm` is refused.")

    def targets(self) -> tuple[list[str] | None, str | None]:
        """The document ids or the question (or neither, with a date or source filter: the
        articles it admits)."""
        given = [self.document_id is not None, self.document_ids is not None,
                 self.question is not None]
        if sum(given) > 1 or (sum(given) == 0 and not self.scope().filters_metadata):
            raise InvalidInput("give one of document_id, document_ids and question, or a "
                               "filter (published_after, published_before, sources, as_of)")
        if self.document_id is not None:
            return [self.document_id], None
        return self.document_ids, self.question


class SummaryOut(BaseModel):
    summary: str
    sentences: list[SentenceOut]
    document_ids: list[str] = Field(..., description="The documents the summary is drawn from.")
    mode: Literal["offline", "llm"] = Field(..., description="Who wrote this summary.")
    fallback_reason: str | None = Field(
        None, description="Why the offline summary is returned although the LLM was asked.")
    prompt: PromptOut | None = Field(None, description="The prompt template of an LLM summary.")
    timeline: bool = Field(False, description="The sentences are dated and in date order.")

    @classmethod
    def of(cls, s: Summary) -> SummaryOut:
        return cls(summary=s.summary, sentences=[SentenceOut.of(x) for x in s.sentences],
                   document_ids=s.document_ids, mode="llm" if s.mode == "llm" else "offline",
                   fallback_reason=s.fallback_reason,
                   prompt=PromptOut(name=s.prompt.name, version=s.prompt.version)
                   if s.prompt else None, timeline=s.timeline)


class DoctorOut(BaseModel):
    """A running service's view against its store (service/store/doctor.py)."""

    articles: int
    chunks: int = Field(..., description="Every chunk record, trusted or not.")
    stale_chunks: int = Field(..., description="Of another version of their article.")
    orphan_chunks: int = Field(..., description="Of no article record.")
    incomplete_articles: list[str] = Field(
        ..., description="Records whose current version misses chunks.")
    lexical_missing: int = Field(
        ..., description="Current chunks this service's lexical index lacks.")
    lexical_extra: int = Field(
        ..., description="This service's lexical entries that are no current chunk.")
    catalog_mismatched: int = Field(
        ..., description="Documents whose entry in this service's catalog differs from the "
        "store's record.")
    problems: int


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class RateLimitHealth(BaseModel):
    store: Literal["memory", "redis"]
    reachable: bool
    fail: Literal["open", "closed"]  # what requests get while the store is unreachable
    error: str | None = None  # the store's last failure, while it lasts


class Health(BaseModel):
    # ``degraded``: the service answers, but the rate limit store is unreachable.
    status: Literal["ok", "degraded"]
    documents: int
    chunks: int
    rate_limit: RateLimitHealth | None = None  # when a rate limit is set
