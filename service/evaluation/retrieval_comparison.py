"""Retrieval alone, compared across modes and chunk sizes: recall@1, recall@5 and MRR@10 of the
relevant chunk, from ``desk.retriever.retrieve(question, k=10)`` (the answerer is not run).

Each (corpus, chunk size) store is built once and cached under ``STORE_CACHE`` (ingest is
idempotent, so a cached store costs only a check per document); the modes and fusion variants
are then switched on the same store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from service.config import Settings, get_settings
from service.evaluation.benchmarks import Benchmark, load_benchmark
from service.evaluation.datasets import SUMMEVAL_PATH, load_dataset, summeval_articles
from service.evaluation.metrics import (
    MRR_CUTOFF,
    RetrievedSpan,
    hit_at,
    quote_span,
    reciprocal_rank,
    relevant_rank,
    supporting_rank,
)
from service.retrieve import RetrievalMode
from service.retrieve.hybrid import DEFAULT_FUSION, Fusion

if TYPE_CHECKING:  # importing the desk loads Chroma and the model
    from service.desk import Factdesk

STORE_CACHE = Path(tempfile.gettempdir()) / "factdesk-eval-stores"
COMPARISON_SETS = ("seed", "squad-open", "rgb")
CHUNK_SIZES = (128, 160, 256)
OVERLAP_SHARE = 0.2  # the default 32 of 160 tokens, kept proportional
DEPTH = 10


@dataclass(frozen=True)
class Variant:
    name: str
    mode: RetrievalMode
    fusion: Fusion = DEFAULT_FUSION  # hybrid only


def _hybrid(fusion: Fusion, note: str = "") -> Variant:
    changed = [f"{name}={getattr(fusion, name)}" for name in ("ceiling", "holds", "leading")
               if getattr(fusion, name) != getattr(DEFAULT_FUSION, name)]
    name = "hybrid " + (", ".join(changed) if changed else "(default)")
    return Variant(name + (f" {note}" if note else ""), RetrievalMode.HYBRID, fusion)


# The default; each constant of the fusion one step either side, to show how sharp the choice
# is; and the same lexical evidence with a fixed weight (leading=0), to show what the per-query
# weight adds.
VARIANTS = (
    Variant("dense", RetrievalMode.DENSE),
    Variant("lexical", RetrievalMode.LEXICAL),
    _hybrid(DEFAULT_FUSION),
    _hybrid(replace(DEFAULT_FUSION, ceiling=0.5)),
    _hybrid(replace(DEFAULT_FUSION, ceiling=0.7)),
    _hybrid(replace(DEFAULT_FUSION, holds=0.3)),
    _hybrid(replace(DEFAULT_FUSION, holds=0.5)),
    _hybrid(replace(DEFAULT_FUSION, leading=6)),
    _hybrid(replace(DEFAULT_FUSION, leading=10)),
    _hybrid(Fusion(ceiling=0.2, leading=0), "(fixed weight)"),
)


@dataclass(frozen=True)
class RetrievalQuestion:
    id: str
    question: str
    relevant_rank: Callable[[Sequence[RetrievedSpan]], int | None]


@dataclass(frozen=True)
class RetrievalScores:
    dataset: str
    chunk_tokens: int
    overlap_tokens: int
    variant: str
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float


def overlap_for(chunk_tokens: int) -> int:
    return round(chunk_tokens * OVERLAP_SHARE)


def open_desk(corpus: str, chunk_tokens: int, cache: Path = STORE_CACHE) -> Factdesk:
    """A Factdesk on the cached store for this corpus and chunk size (built on first use)."""
    from service.desk import Factdesk  # loads the model: only when a comparison runs

    overlap = overlap_for(chunk_tokens)
    settings: Settings = get_settings().model_copy(update={
        "data_dir": cache / f"c{chunk_tokens}-o{overlap}" / corpus,
        "chunk_tokens": chunk_tokens, "chunk_overlap_tokens": overlap,
    })
    return Factdesk(settings)


def seed_questions(desk: Factdesk, dataset: str = "seed") -> list[RetrievalQuestion]:
    """Ingest the seed article and the SummEval distractors; the answerable seed questions."""
    data = load_dataset(dataset)
    article_id = desk.ingest_path(data.article).id
    if SUMMEVAL_PATH.is_file():
        for article in summeval_articles(SUMMEVAL_PATH):
            desk.ingest(article.text, "text", document_id=article.id)
    text = desk.get(article_id).text
    questions = []
    for q in data.questions:
        span = quote_span(text, q.quote) if q.answerable and q.quote else None
        if span is not None:
            questions.append(RetrievalQuestion(
                q.id, q.question,
                lambda passages, s=span: supporting_rank(passages, article_id, s)))
    return questions


def benchmark_questions(desk: Factdesk, benchmark: Benchmark) -> list[RetrievalQuestion]:
    for document in benchmark.documents:
        desk.ingest(document.text, "text", document_id=document.id)
    texts: dict[str, str] = {}

    def text_of(document_id: str) -> str:
        if document_id not in texts:
            texts[document_id] = desk.get(document_id).text
        return texts[document_id]

    return [
        RetrievalQuestion(
            q.id, q.question,
            lambda passages, q=q: relevant_rank(passages, q.relevant_documents,
                                                q.relevant_strings, text_of))
        for q in benchmark.questions if q.relevant_documents
    ]


def score_variant(
    desk: Factdesk, questions: Sequence[RetrievalQuestion], variant: Variant
) -> tuple[float, float, float]:
    """Recall@1, recall@5 and MRR@10 of one variant on one store."""
    retriever = desk.retriever
    default = retriever.fusion
    retriever.fusion = variant.fusion
    try:
        ranks = []
        for q in questions:
            passages = retriever.retrieve(q.question, k=DEPTH, mode=variant.mode)
            ranks.append(q.relevant_rank([
                RetrievedSpan(p.chunk.id, p.chunk.document_id, p.chunk.start, p.chunk.end)
                for p in passages
            ]))
    finally:
        retriever.fusion = default
    n = len(ranks) or 1
    return (sum(hit_at(r, 1) for r in ranks) / n, sum(hit_at(r, 5) for r in ranks) / n,
            sum(reciprocal_rank(r, MRR_CUTOFF) for r in ranks) / n)


def compare_retrieval(
    datasets: Sequence[str] = COMPARISON_SETS,
    chunk_sizes: Sequence[int] = CHUNK_SIZES,
    variants: Sequence[Variant] = VARIANTS,
    cache: Path = STORE_CACHE,
    on_progress: Callable[[str], None] | None = None,
) -> Iterator[RetrievalScores]:
    """Score every variant on every set and chunk size; yields one row at a time."""
    for dataset in datasets:
        benchmark = None if dataset == "seed" else load_benchmark(dataset)
        corpus = "seed" if benchmark is None else benchmark.corpus
        for chunk_tokens in chunk_sizes:
            if on_progress:
                on_progress(f"{dataset}: store with {chunk_tokens}-token chunks…")
            desk = open_desk(corpus, chunk_tokens, cache)
            questions = (seed_questions(desk) if benchmark is None
                         else benchmark_questions(desk, benchmark))
            for variant in variants:
                r1, r5, mrr = score_variant(desk, questions, variant)
                yield RetrievalScores(dataset, chunk_tokens, overlap_for(chunk_tokens),
                                      variant.name, len(questions), round(r1, 3), round(r5, 3),
                                      round(mrr, 3))


def markdown_table(rows: Sequence[RetrievalScores]) -> str:
    lines = ["| set | chunk/overlap | variant | n | R@1 | R@5 | MRR@10 |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.dataset} | {r.chunk_tokens}/{r.overlap_tokens} | {r.variant} | "
              f"{r.questions} | {r.recall_at_1:.3f} | {r.recall_at_5:.3f} | {r.mrr_at_10:.3f} |"
              for r in rows]
    return "\n".join(lines) + "\n"
