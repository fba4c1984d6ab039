"""`factdesk eval`: run datasets, show the results, write reports, compare and gate."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.evaluation.console import comparison_table, group_table, summary_table
from service.evaluation.datasets import REPO, SUMMEVAL_PATH, EvalDataset, load_dataset
from service.evaluation.gate import THRESHOLDS_PATH, check_gate, load_thresholds
from service.evaluation.report import compare_summaries, load_summary, write_reports
from service.evaluation.runner import CorpusNotIngested, EvalRun, run_eval
from service.evaluation.targets import EmbeddedTarget, EvalTarget, HttpTarget
from service.retrieve import RetrievalMode

REPORTS_DIR = REPO / "eval" / "reports"
ANSWER_MODES = ("offline",)


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


def run_command(options: EvalOptions, console: Console) -> int:
    """Run every dataset; return the exit code (1 when the gate fails)."""
    retrieval = _check_options(options)
    datasets = [_load(spec, options.limit) for spec in options.datasets]
    if not options.distractors.is_file():
        console.print(f"note: {options.distractors} not found; "
                      "running on the dataset's article only")
    target: EvalTarget = (
        HttpTarget(options.url) if options.url
        else EmbeddedTarget(options.data_dir, retrieval)
    )
    gate_failed = False
    try:
        for dataset in datasets:
            run = _run_with_progress(target, dataset, options, console)
            _show(run, options, console)
            if options.gate:
                gate_failed |= not _passes_gate(run, console)
    except CorpusNotIngested as error:
        raise EvalCannotRun(f"cannot ingest the dataset's article {error}") from None
    finally:
        target.close()
    return 1 if gate_failed else 0


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
    target: EvalTarget, dataset: EvalDataset, options: EvalOptions, console: Console
) -> EvalRun:
    console.print(f"{dataset.name}: ingesting {dataset.article.name} and the distractors…")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(dataset.name, total=len(dataset.questions))
        return run_eval(
            target, dataset,
            distractors=options.distractors if options.distractors.is_file() else None,
            settings={"mode": options.mode, "limit": options.limit},
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
