"""`factdesk eval`: run datasets, show the results, write reports, compare and gate."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.evaluation.benchmark_runner import run_benchmark
from service.evaluation.benchmarks import (
    Benchmark,
    BenchmarkMissing,
    is_benchmark,
    load_benchmark,
)
from service.evaluation.console import (
    comparison_table,
    group_table,
    retrieval_table,
    summary_table,
)
from service.evaluation.datasets import REPO, SUMMEVAL_PATH, EvalDataset, load_dataset
from service.evaluation.gate import THRESHOLDS_PATH, check_gate, load_thresholds
from service.evaluation.report import compare_summaries, load_summary, write_reports
from service.evaluation.runner import CorpusNotIngested, EvalRun, run_eval
from service.evaluation.targets import EmbeddedTarget, EvalTarget, HttpTarget
from service.retrieve import RetrievalMode

REPORTS_DIR = REPO / "eval" / "reports"
ANSWER_MODES = ("offline", "llm", "auto")


class EvalCannotRun(Exception):
    """The eval cannot start: the options do not fit together, or the corpus cannot be loaded."""


@dataclass(frozen=True)
class EvalOptions:
    datasets: list[str]
    url: str | None = None
    mode: str = "offline"
    retrieval: str = RetrievalMode.HYBRID.value
    report_dir: Path = REPORTS_DIR
    compare: Path | None = None
    limit: int | None = None
    gate: bool = False
    data_dir: Path | None = None
    distractors: Path = SUMMEVAL_PATH
    compare_retrieval: bool = False
    chunk_sizes: tuple[int, ...] = ()


def run_command(options: EvalOptions, console: Console) -> int:
    """Run every dataset; return the exit code (1 when the gate fails).

    A public benchmark whose data file is missing is skipped with a note, not an error.
    """
    retrieval = _check_options(options)
    if options.compare_retrieval:
        return _compare_retrieval(options, console)
    if "summarize" in options.datasets:
        if options.datasets != ["summarize"]:
            raise EvalCannotRun("summarize runs on its own: `factdesk eval summarize`")
        return _summarize(options, console)
    datasets: list[EvalDataset | Benchmark] = []
    for spec in options.datasets:
        if not is_benchmark(spec):
            datasets.append(_load(spec, options.limit))
            continue
        try:
            datasets.append(load_benchmark(spec).limited(options.limit))
        except BenchmarkMissing as missing:
            console.print(f"note: {missing}")
    if any(isinstance(d, EvalDataset) for d in datasets) and not options.distractors.is_file():
        console.print(f"note: {options.distractors} not found; "
                      "running on the dataset's article only")
    # One store per corpus, so the SQuAD contexts never sit among the seed's distractors;
    # squad-rc and squad-open share theirs.
    targets: dict[str, EvalTarget] = {}
    gate_failed = False
    try:
        for dataset in datasets:
            corpus = dataset.corpus if isinstance(dataset, Benchmark) else "seed"
            if corpus not in targets:
                targets[corpus] = _make_target(options, retrieval, corpus)
            run = _run_with_progress(targets[corpus], dataset, options, console)
            _show(run, options, console)
            if options.gate:
                gate_failed |= not _passes_gate(run, console)
    except CorpusNotIngested as error:
        raise EvalCannotRun(f"cannot ingest the dataset's article {error}") from None
    finally:
        for target in targets.values():
            target.close()
    return 1 if gate_failed else 0


def _summarize(options: EvalOptions, console: Console) -> int:
    """ROUGE on SummEval beside Lead-3 and the SummEval systems; table and reports."""
    from service.evaluation.summarization import (
        FACTDESK,
        LEAD3,
        SummEvalMissing,
        markdown_report,
        run_summarize_eval,
    )

    if options.url:
        raise EvalCannotRun("summarize runs on the embedded service only")
    with Progress(TextColumn("summarize"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("summarize", total=None)
        try:
            run = run_summarize_eval(
                options.distractors, mode=options.mode, limit=options.limit,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        except SummEvalMissing as missing:
            console.print(f"note: {missing}")
            return 0
    summary = run.summary()
    table = Table(title=f"factdesk eval: summarize ({summary['articles']} SummEval articles, "
                  f"mode {summary['mode']})")
    for column in ("system", "ROUGE-1", "ROUGE-2", "ROUGE-L"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for system, means in summary["rouge"].items():
        style = "bold" if system in (FACTDESK, LEAD3) else None
        table.add_row(system, *(f"{means[m]:.4f}" for m in ("rouge1", "rouge2", "rougeL")),
                      style=style)
    console.print(table)
    console.print(f"citations {summary['citations']}, exact {summary['citation_exact']}; "
                  f"unsupported sentences {summary['unsupported_sentences']}; fallbacks "
                  f"{summary['fallbacks']}; mean words {summary['mean_words']}; p50 "
                  f"{summary['latency_p50_ms']} ms")
    options.report_dir.mkdir(parents=True, exist_ok=True)
    stem = options.report_dir / f"summarize-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(
        {"summary": summary, "samples": run.samples,
         "per_article": run.scores.per_article}, indent=2), encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown_report(run), encoding="utf-8")
    console.print(f"reports: {stem}.json and {stem.name}.md")
    return 0


def _make_target(options: EvalOptions, retrieval: RetrievalMode, corpus: str) -> EvalTarget:
    if options.url:
        return HttpTarget(options.url, mode=options.mode)
    if options.data_dir is None or corpus == "seed":
        return EmbeddedTarget(options.data_dir, retrieval, options.mode)
    return EmbeddedTarget(options.data_dir / corpus, retrieval, options.mode)


def _compare_retrieval(options: EvalOptions, console: Console) -> int:
    """Retrieval alone, every mode and chunk size on the cached stores; table and reports."""
    from service.evaluation.retrieval_comparison import (
        CHUNK_SIZES,
        STORE_CACHE,
        compare_retrieval,
        markdown_table,
    )

    if options.url:
        raise EvalCannotRun("--compare-retrieval works on the embedded service only")
    datasets = []
    for spec in options.datasets:
        if spec != "seed" and not is_benchmark(spec):
            raise EvalCannotRun(f"--compare-retrieval takes seed, squad-open or rgb, not {spec}")
        try:
            if spec != "seed":
                load_benchmark(spec)
            datasets.append(spec)
        except BenchmarkMissing as missing:
            console.print(f"note: {missing}")
    if not datasets:
        return 0
    cache = options.data_dir or STORE_CACHE
    console.print(f"stores cached under {cache}")
    rows = []
    table = retrieval_table()
    for row in compare_retrieval(datasets, options.chunk_sizes or CHUNK_SIZES, cache=cache,
                                 on_progress=console.print):
        rows.append(row)
        table.add_row(row.dataset, f"{row.chunk_tokens}/{row.overlap_tokens}", row.variant,
                      str(row.questions), f"{row.recall_at_1:.3f}", f"{row.recall_at_5:.3f}",
                      f"{row.mrr_at_10:.3f}")
    console.print(table)
    options.report_dir.mkdir(parents=True, exist_ok=True)
    stem = options.report_dir / f"retrieval-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.with_suffix(".md").write_text(markdown_table(rows), encoding="utf-8")
    stem.with_suffix(".json").write_text(
        json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8")
    console.print(f"reports: {stem}.md and .json")
    return 0


def _check_options(options: EvalOptions) -> RetrievalMode:
    if options.mode not in ANSWER_MODES:
        raise EvalCannotRun(f"--mode must be one of {', '.join(ANSWER_MODES)}")
    try:
        retrieval = RetrievalMode(options.retrieval)
    except ValueError:
        raise EvalCannotRun("--retrieval must be hybrid, dense or lexical") from None
    if options.url and retrieval is not RetrievalMode.HYBRID:
        raise EvalCannotRun("--retrieval works on the embedded service only; "
                            "the HTTP API always uses its default")
    if options.url and options.data_dir:
        raise EvalCannotRun("--data-dir and --url exclude each other")
    if options.compare and not options.compare.is_file():
        raise EvalCannotRun(f"no report at {options.compare}")
    return retrieval


def _load(spec: str, limit: int | None) -> EvalDataset:
    try:
        return load_dataset(spec).limited(limit)
    except (OSError, ValueError, KeyError) as error:
        raise EvalCannotRun(f"dataset {spec}: {error}") from None


def _run_with_progress(
    target: EvalTarget, dataset: EvalDataset | Benchmark, options: EvalOptions, console: Console
) -> EvalRun:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    settings = {"mode": options.mode, "limit": options.limit}
    if isinstance(dataset, Benchmark):
        console.print(f"{dataset.name}: ingesting {len(dataset.documents)} documents…")
        with Progress(*columns, console=console, transient=True) as progress:
            ingest = progress.add_task("ingest", total=len(dataset.documents))
            ask = progress.add_task(dataset.name, total=len(dataset.questions))
            return run_benchmark(
                target, dataset, settings=settings,
                on_ingest=lambda: progress.advance(ingest),
                on_result=lambda _: progress.advance(ask),
            )
    console.print(f"{dataset.name}: ingesting {dataset.article.name} and the distractors…")
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(dataset.name, total=len(dataset.questions))
        return run_eval(
            target, dataset,
            distractors=options.distractors if options.distractors.is_file() else None,
            settings=settings,
            on_result=lambda _: progress.advance(task),
        )


def _show(run: EvalRun, options: EvalOptions, console: Console) -> None:
    for note in run.notes:
        console.print(f"note: {note}")
    console.print(summary_table(run))
    console.print(group_table("type", run.by_type))
    json_path, md_path = write_reports(run, options.report_dir)
    console.print(f"reports: {json_path} and {md_path.name}")
    if options.compare:
        deltas = compare_summaries(load_summary(options.compare), run.summary)
        console.print(comparison_table(deltas, str(options.compare)))


def _passes_gate(run: EvalRun, console: Console) -> bool:
    thresholds = load_thresholds(run.dataset)
    if thresholds is None:
        console.print(f"[red]gate: no thresholds for '{run.dataset}' in {THRESHOLDS_PATH}[/]")
        return False
    failures = check_gate(asdict(run.summary), thresholds)
    for failure in failures:
        console.print(f"[red]gate: {failure}[/]")
    if not failures:
        console.print(f"[green]gate: {run.dataset} meets all {len(thresholds)} thresholds[/]")
    return not failures
