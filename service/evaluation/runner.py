"""Run a question set against a target and score every answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.domain import Citation
from service.evaluation.datasets import EvalDataset, EvalQuestion, summeval_articles
from service.evaluation.metrics import (
    MRR_CUTOFF,
    RetrievedSpan,
    citation_is_exact,
    citation_supports,
    hit_at,
    quote_span,
    reciprocal_rank,
    score_answer,
    supporting_rank,
)
from service.evaluation.results import CitationRecord, QuestionResult, QuestionScores
from service.evaluation.summary import Summary, summarise, summarise_by
from service.evaluation.targets import EvalTarget, Reply
from service.scope import Scope


@dataclass
class EvalRun:
    dataset: str
    dataset_path: str
    article_id: str
    started: str
    settings: dict[str, Any]
    notes: list[str]
    summary: Summary
    by_type: dict[str, Summary]
    by_difficulty: dict[str, Summary]
    questions: list[QuestionResult]


OnResult = Callable[[QuestionResult], None]


class CorpusNotIngested(Exception):
    """The dataset's own article could not be ingested, so there is nothing to evaluate."""


def ingest_corpus(
    target: EvalTarget, dataset: EvalDataset, distractors: Path | None
) -> tuple[str, list[str]]:
    """Ingest the dataset's article and the distractors; return the article id and notes."""
    notes: list[str] = []
    try:
        article_id = target.ingest_file(dataset.article)
    except Exception as error:
        raise CorpusNotIngested(f"{dataset.article}: {type(error).__name__}: {error}") from error
    if distractors is None:
        notes.append("distractors: none (the dataset's article only)")
        return article_id, notes
    if not distractors.is_file():
        notes.append(f"distractors: {distractors} not found; the dataset's article only")
        return article_id, notes
    ingested = failed = 0
    for article in summeval_articles(distractors):
        try:
            target.ingest_text(article.text, article.id)
            ingested += 1
        except Exception as error:  # a bad distractor must not stop the eval
            failed += 1
            notes.append(f"distractor {article.id} not ingested: {error}")
    notes.append(f"distractors: {ingested} SummEval articles from {distractors}"
                 + (f", {failed} failed" if failed else ""))
    return article_id, notes


def run_eval(
    target: EvalTarget,
    dataset: EvalDataset,
    *,
    distractors: Path | None,
    settings: dict[str, Any] | None = None,
    on_result: OnResult | None = None,
) -> EvalRun:
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    article_id, notes = ingest_corpus(target, dataset, distractors)
    article_text = target.document_text(article_id)
    top_k = target.describe().get("top_k")
    results = []
    for question in dataset.questions:
        result = ask_and_score(target, question, article_id, article_text, top_k)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return EvalRun(
        dataset=dataset.name,
        dataset_path=str(dataset.path),
        article_id=article_id,
        started=started,
        settings={**target.describe(), **(settings or {})},
        notes=notes,
        summary=summarise(results),
        by_type=summarise_by(results, lambda r: r.type),
        by_difficulty=summarise_by(results, lambda r: r.difficulty),
        questions=results,
    )


def ask_and_score(
    target: EvalTarget,
    question: EvalQuestion,
    article_id: str,
    article_text: str,
    top_k: int | None,
) -> QuestionResult:
    result = QuestionResult(
        id=question.id, question=question.question, type=question.type,
        difficulty=question.difficulty, answerable=question.answerable,
        expected=list(question.answers), quote=question.quote,
        stale_answers=list(question.stale_answers),
    )
    return record_reply(
        result, target, question.question, None, lambda: _failed_scores(question),
        lambda reply, exact: score_reply(question, reply, exact, article_id, article_text, top_k),
    )


def record_reply(
    result: QuestionResult,
    target: EvalTarget,
    question: str,
    document_ids: tuple[str, ...] | None,
    failed: Callable[[], QuestionScores],
    score: Callable[[Reply, list[bool]], QuestionScores],
    filters: Scope | None = None,
) -> QuestionResult:
    """Ask, time it, check every citation against the stored text, and score the reply.
    A failing call (timeout, error) is counted on the result, never raised."""
    began = time.perf_counter()
    try:
        reply = target.ask(question, document_ids=document_ids, scope=filters)
        exact = [_is_exact(c, target) for c in reply.citations]
    except Exception as error:  # timeouts and failures are counted, never fatal
        result.latency_ms = round((time.perf_counter() - began) * 1000, 1)
        result.error = f"{type(error).__name__}: {error}"
        result.scores = failed()
        return result
    result.latency_ms = round((time.perf_counter() - began) * 1000, 1)
    result.answer = reply.answer
    result.abstained = reply.abstained
    result.confidence = reply.confidence
    result.mode, result.fallback_reason = reply.mode, reply.fallback_reason
    result.citations = [
        CitationRecord(c.document_id, c.chunk_id, c.start, c.end, c.quote, ok)
        for c, ok in zip(reply.citations, exact, strict=True)
    ]
    result.passages = [p.chunk_id for p in reply.passages]
    result.scores = score(reply, exact)
    return result


def score_reply(
    question: EvalQuestion,
    reply: Reply,
    exact: list[bool],
    article_id: str,
    article_text: str,
    top_k: int | None,
) -> QuestionScores:
    answer = score_answer(reply.answer, reply.abstained, question.answers, question.answerable)
    scores = QuestionScores(
        em=answer.em,
        f1=answer.f1,
        contains_gold=answer.contains_gold,
        citation_exact=sum(exact) / len(exact) if exact else None,
    )
    if not question.answerable:
        scores.abstained_correctly = reply.abstained
        return scores
    span = quote_span(article_text, question.quote) if question.quote else None
    scores.citation_support = citation_supports(
        reply.citations, article_id, span, question.answers
    )
    if question.quote:
        scores.quote_found = span is not None
    if span is not None:
        _score_retrieval(scores, reply.passages, article_id, span, top_k)
    return scores


def _score_retrieval(
    scores: QuestionScores,
    passages: list[RetrievedSpan],
    article_id: str,
    span: tuple[int, int],
    top_k: int | None,
) -> None:
    rank = supporting_rank(passages, article_id, span)
    scores.supporting_rank = rank
    scores.recall_at_1 = hit_at(rank, 1)
    scores.recall_at_5 = hit_at(rank, 5)
    scores.recall_at_k = hit_at(rank, top_k or len(passages))
    scores.reciprocal_rank = reciprocal_rank(rank, MRR_CUTOFF)


def _failed_scores(question: EvalQuestion) -> QuestionScores:
    """A failed call scores as a wrong answer: no credit, not an abstention, nothing found."""
    if not question.answerable:
        return QuestionScores(abstained_correctly=False)
    scores = QuestionScores(contains_gold=False, citation_support=False)
    if question.quote:
        scores.recall_at_1 = scores.recall_at_5 = scores.recall_at_k = False
        scores.reciprocal_rank = 0.0
    return scores


def _is_exact(citation: Citation, target: EvalTarget) -> bool:
    return citation_is_exact(citation, target.document_text(citation.document_id))
