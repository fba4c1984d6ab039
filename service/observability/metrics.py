"""Prometheus metrics: HTTP requests, ingests, answers and LLM calls.

Each application owns a ``Metrics`` with its own registry, so two apps in one process (tests,
or a second app mounted elsewhere) never add to each other's counts. The HTTP middleware binds
the app's ``Metrics`` to the request's context (``bind``); the ``count_*`` functions below add
to whichever is bound, and do nothing outside a request (the CLI, seeding at start-up). The
LLM client counts through them too: it is shared by desks and apps, and cannot know which app
a call serves.

Under ``factdesk serve --workers N`` each worker process writes its counts to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, chosen when the variable is set
before the library is imported), and ``/metrics`` on any worker reads them all: the whole
service's counts, whichever worker answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from service.domain import Answer, IngestResult, IngestStatus

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds; answers with an LLM take seconds, reads take milliseconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LLM_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class Metrics:
    """The metric objects of one application, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.http_requests = Counter(
            "factdesk_http_requests", "HTTP requests answered, by route template.",
            ["method", "route", "status"], registry=registry)
        self.http_duration = Histogram(
            "factdesk_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response (a whole stream).",
            ["method", "route", "status"], buckets=HTTP_BUCKETS, registry=registry)
        self.ingests = Counter(
            "factdesk_ingests", "Articles ingested over HTTP, by outcome.", ["status"],
            registry=registry)
        self.ingested_chunks = Counter(
            "factdesk_ingested_chunks", "Chunks written by created or updated articles.",
            registry=registry)
        # Workers read one store: the most recent reading of any of them is the service's.
        self.documents = Gauge(
            "factdesk_documents", "Articles in the store.", registry=registry,
            multiprocess_mode="mostrecent")
        self.chunks = Gauge(
            "factdesk_chunks", "Chunks of the current article versions.", registry=registry,
            multiprocess_mode="mostrecent")
        self.rate_limit_failures = Counter(
            "factdesk_rate_limit_store_failures", "Requests whose rate limit check could not "
            "reach the shared store (Redis): let through or refused, as FACTDESK_RATE_LIMIT_FAIL "
            "says.", registry=registry)
        self.answers = Counter(
            "factdesk_answers", "Answers given, by who wrote them and why an LLM answer fell "
            "back to the offline one ('none': it did not).", ["mode", "fallback_reason"],
            registry=registry)
        self.abstentions = Counter(
            "factdesk_abstentions", "Answers that abstained: the articles do not hold it.",
            registry=registry)
        self.llm_requests = Counter(
            "factdesk_llm_requests", "Chat completions requested from the LLM server.",
            registry=registry)
        self.llm_errors = Counter(
            "factdesk_llm_errors", "LLM calls that failed, by error code.", ["code"],
            registry=registry)
        self.llm_tokens = Counter(
            "factdesk_llm_tokens", "Tokens the LLM server reported using (when it reports "
            "usage), by kind.", ["kind"], registry=registry)
        self.llm_duration = Histogram(
            "factdesk_llm_request_duration_seconds",
            "Time from sending a chat completion to the end of its stream.",
            buckets=LLM_BUCKETS, registry=registry)
        # Known label values start at zero, so a dashboard sees them before the first event.
        for status in IngestStatus:
            self.ingests.labels(status.value)
        for kind in ("prompt", "completion"):
            self.llm_tokens.labels(kind)

    def exposition(self, documents: int, chunks: int) -> bytes:
        """The Prometheus text format, with the store's current counts."""
        self.documents.set(documents)
        self.chunks.set(chunks)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every worker's counts
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


_bound: ContextVar[Metrics | None] = ContextVar("factdesk_metrics", default=None)


@contextmanager
def bind(metrics: Metrics) -> Iterator[None]:
    """Count what happens in this context (and the tasks and threads it starts) in ``metrics``."""
    token = _bound.set(metrics)
    try:
        yield
    finally:
        _bound.reset(token)


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    metrics = _bound.get()
    if metrics is not None:
        labels = (method, route, str(status))
        metrics.http_requests.labels(*labels).inc()
        metrics.http_duration.labels(*labels).observe(seconds)


def count_rate_limit_failure() -> None:
    metrics = _bound.get()
    if metrics is not None:
        metrics.rate_limit_failures.inc()


def count_ingest(result: IngestResult) -> None:
    metrics = _bound.get()
    if metrics is None:
        return
    metrics.ingests.labels(result.status.value).inc()
    if result.status is not IngestStatus.UNCHANGED:
        metrics.ingested_chunks.inc(result.chunks)


def count_answer(answer: Answer) -> None:
    metrics = _bound.get()
    if metrics is None:
        return
    mode = "llm" if answer.mode == "llm" else "offline"
    metrics.answers.labels(mode, answer.fallback_reason or "none").inc()
    if answer.abstained:
        metrics.abstentions.inc()


def count_llm_request() -> None:
    metrics = _bound.get()
    if metrics is not None:
        metrics.llm_requests.inc()


def count_llm_error(code: str) -> None:
    metrics = _bound.get()
    if metrics is not None:
        metrics.llm_errors.labels(code).inc()


def count_llm_tokens(prompt: int, completion: int) -> None:
    metrics = _bound.get()
    if metrics is not None:
        metrics.llm_tokens.labels("prompt").inc(prompt)
        metrics.llm_tokens.labels("completion").inc(completion)


def time_llm_request(seconds: float) -> None:
    metrics = _bound.get()
    if metrics is not None:
        metrics.llm_duration.observe(seconds)
