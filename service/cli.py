"""The ``factdesk`` command: the second door onto the same services as the HTTP API."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from service.errors import FactdeskError

app = typer.Typer(help="Cited answers over a body of news articles.", no_args_is_help=True)


def _desk():  # imported lazily: loading the model and the store takes a moment
    from service.desk import Factdesk

    return Factdesk()


def _fail(error: FactdeskError) -> None:
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    seed: Annotated[bool, typer.Option(help="Ingest seeds/ when the store is empty.")] = True,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from service.api.app import create_app

    desk = _desk()
    if seed and desk.is_empty():
        for result in desk.ingest_seeds():
            typer.echo(f"seeded {result.id}: {result.title} ({result.chunks} chunks)")
    uvicorn.run(create_app(desk), host=host, port=port)


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders of articles.")]) -> None:
    """Ingest .txt, .md and .html files (a file's name, without suffix, is its id)."""
    desk = _desk()
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()]
    failed = 0
    for path in files:
        try:
            result = desk.ingest_path(path)
        except FactdeskError as error:
            failed += 1
            typer.echo(f"{path}: {error.message}", err=True)
            continue
        typer.echo(f"{result.status.value:9} {result.id}  {result.chunks} chunks  {result.title}")
    if failed:
        raise typer.Exit(code=1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    top_k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON answer.")] = False,
    mode: Annotated[str, typer.Option(
        help="offline, llm or auto (the LLM when one is configured, else offline).")] = "auto",
) -> None:
    """Ask a question of the stored articles."""
    from service.api.schemas import AskOut

    try:
        answer = _desk().ask(question, top_k=top_k, mode=mode)
    except FactdeskError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(AskOut.of(answer).model_dump_json(indent=2))
        return
    typer.echo(answer.answer if not answer.abstained else "Not found in the stored articles.")
    for n, c in enumerate(answer.citations, 1):
        typer.echo(f"  [{n}] {c.title} ({c.document_id} {c.start}-{c.end}): \"{c.quote}\"")
    unsupported = [s.text for s in answer.sentences if not s.supported and answer.mode == "llm"]
    for text in unsupported:
        typer.echo(f"  unsupported by the articles: \"{text}\"")
    described = f"{answer.mode}" + (f", fell back: {answer.fallback_reason}"
                                    if answer.fallback_reason else "")
    typer.echo(f"  confidence {answer.confidence:.2f} ({described})")


@app.command()
def documents(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the stored articles."""
    articles = _desk().list()
    if as_json:
        rows = [{k: v for k, v in asdict(a).items() if k != "text"} for a in articles]
        json.dump(rows, sys.stdout, indent=2)
        typer.echo()
        return
    for a in articles:
        typer.echo(f"{a.id}  {a.chunk_count:4} chunks  {a.published or '':10}  {a.title}")


@app.command("eval")
def evaluate(
    datasets: Annotated[list[str] | None, typer.Argument(
        help="Dataset names in eval/datasets/, paths to YAML files, or the public benchmarks "
        "squad-rc, squad-open and rgb.")] = None,
    url: Annotated[str | None, typer.Option(
        help="Evaluate a running server (http://host:port) instead of an embedded one.")] = None,
    mode: Annotated[str, typer.Option(help="Answer mode.")] = "offline",
    retrieval: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    report: Annotated[Path | None, typer.Option(
        help="Folder for the JSON and Markdown reports; default eval/reports.")] = None,
    compare: Annotated[Path | None, typer.Option(
        help="An earlier JSON report to print deltas against.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Ask only the first N.")] = None,
    gate: Annotated[bool, typer.Option(
        help="Exit 1 when a metric misses eval/thresholds.yaml.")] = False,
    data_dir: Annotated[Path | None, typer.Option(
        help="Store for the embedded service; default a temporary one. Benchmarks use a "
        "sub-folder per corpus.")] = None,
    compare_retrieval: Annotated[bool, typer.Option(
        help="Retrieval only: recall@1/@5 and MRR@10 of dense, lexical and hybrid retrieval "
        "per chunk size, on seed, squad-open and rgb by default.")] = False,
    chunk_tokens: Annotated[list[int] | None, typer.Option(
        help="Chunk sizes for --compare-retrieval (repeat); default 128, 160 and 256.")] = None,
) -> None:
    """Ask an eval question set, score the answers and write reports."""
    from rich.console import Console

    from service.evaluation.command import REPORTS_DIR, EvalCannotRun, EvalOptions, run_command

    if not datasets:
        datasets = ["seed", "squad-open", "rgb"] if compare_retrieval else ["seed"]
    options = EvalOptions(
        datasets=datasets, url=url, mode=mode, retrieval=retrieval,
        report_dir=report or REPORTS_DIR, compare=compare, limit=limit, gate=gate,
        data_dir=data_dir, compare_retrieval=compare_retrieval,
        chunk_sizes=tuple(chunk_tokens or ()),
    )
    try:
        code = run_command(options, Console())
    except EvalCannotRun as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    raise typer.Exit(code=code)
