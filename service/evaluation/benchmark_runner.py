"""Run a public benchmark (SQuAD, RGB) against a target; the result is an ordinary EvalRun, so
the same summaries, reports and tables apply."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from service.evaluation.benchmarks import Benchmark, BenchQuestion
from service.evaluation.metrics import (
    MRR_CUTOFF,
    contains_every,
    contains_gold,
    hit_at,
    reciprocal_rank,
    relevant_rank,
    score_answer,
)
from service.evaluation.results import QuestionResult, QuestionScores
from service.evaluation.runner import EvalRun, OnResult, record_reply
from service.evaluation.summary import summarise, summarise_by
from service.evaluation.targets import EvalTarget, Reply

OnIngest = Callable[[], None]


def ingest_benchmark(
    target: EvalTarget, benchmark: Benchmark, on_ingest: OnIngest | None = None
) -> list[str]:
    """Ingest every document (unchanged ones cost nothing); return notes on failures."""
    failed = []
    for document in benchmark.documents:
        try:
            target.ingest_text(document.text, document.id, dict(document.meta))
        except Exception as error:  # one bad document must not stop the eval
            failed.append(f"{document.id} not ingested: {type(error).__name__}: {error}")
        if on_ingest is not None:
            on_ingest()
    return [f"corpus: {len(benchmark.documents) - len(failed)} {benchmark.corpus} documents "
            f"from {benchmark.path}" + (f", {len(failed)} failed" if failed else ""), *failed]


def run_benchmark(
    target: EvalTarget,
    benchmark: Benchmark,
    *,
    settings: dict[str, Any] | None = None,
    on_result: OnResult | None = None,
    on_ingest: OnIngest | None = None,
) -> EvalRun:
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    notes = ingest_benchmark(target, benchmark, on_ingest)
    top_k = target.describe().get("top_k")
    results = []
    for question in benchmark.questions:
        result = ask_benchmark_question(target, question, top_k)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return EvalRun(
        dataset=benchmark.name,
        dataset_path=str(benchmark.path),
        article_id=f"{len(benchmark.documents)} {benchmark.corpus} documents",
        started=started,
        settings={**target.describe(), **(settings or {})},
        notes=notes,
        summary=summarise(results),
        by_type=summarise_by(results, lambda r: r.type),
        by_difficulty={},
        questions=results,
    )


def ask_benchmark_question(
    target: EvalTarget, question: BenchQuestion, top_k: int | None
) -> QuestionResult:
    result = QuestionResult(
        id=question.id, question=question.question, type=question.type, difficulty="",
        answerable=question.answerable, expected=list(question.answers), quote=None,
        stale_answers=list(question.stale_answers),
    )
    return record_reply(
        result, target, question.question, question.scope, lambda: _failed_scores(question),
        lambda reply, exact: score_benchmark_reply(
            question, reply, exact, target.document_text, top_k),
        question.filters,
    )


def score_benchmark_reply(
    question: BenchQuestion,
    reply: Reply,
    exact: list[bool],
    text_of: Callable[[str], str],
    top_k: int | None,
) -> QuestionScores:
    """SQuAD EM/F1 (max over the aliases; an abstention is right on unanswerable questions),
    contains-gold (RGB: every required part), citation support and the relevant chunk's rank."""
    answer = score_answer(reply.answer, reply.abstained, question.answers, question.answerable)
    scores = QuestionScores(
        em=answer.em, f1=answer.f1, contains_gold=answer.contains_gold,
        citation_exact=sum(exact) / len(exact) if exact else None,
    )
    if not question.answerable:
        scores.abstained_correctly = reply.abstained
        return scores
    if question.required:
        scores.contains_gold = not reply.abstained and contains_every(reply.answer,
                                                                      question.required)
    gold_documents = question.relevant_documents or question.scope
    scores.citation_support = any(
        contains_gold(c.quote, question.answers)
        and (gold_documents is None or c.document_id in gold_documents)
        for c in reply.citations
    )
    if question.relevant_documents:
        rank = relevant_rank(reply.passages, question.relevant_documents,
                             question.relevant_strings, text_of)
        scores.supporting_rank = rank
        scores.recall_at_1 = hit_at(rank, 1)
        scores.recall_at_5 = hit_at(rank, 5)
        scores.recall_at_k = hit_at(rank, top_k or len(reply.passages))
        scores.reciprocal_rank = reciprocal_rank(rank, MRR_CUTOFF)
    return scores


def _failed_scores(question: BenchQuestion) -> QuestionScores:
    if not question.answerable:
        return QuestionScores(abstained_correctly=False)
    scores = QuestionScores(contains_gold=False, citation_support=False)
    if question.relevant_documents:
        scores.recall_at_1 = scores.recall_at_5 = scores.recall_at_k = False
        scores.reciprocal_rank = 0.0
    return scores
