"""The ``factdesk`` command: the second door onto the same services as the HTTP API."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.errors import FactdeskError, InvalidInput

if TYPE_CHECKING:
    from fastapi import FastAPI

    from service.domain import Citation
    from service.store.owner import StoreOwner

app = typer.Typer(help="Cited answers over a body of news articles.", no_args_is_help=True)


def _desk():  # imported lazily: loading the model and the store takes a moment
    from service.config import get_settings
    from service.desk import Factdesk

    settings = get_settings()
    if settings.answerer == "reader":
        return Factdesk(settings)
    # A baseline in the reader's place (FACTDESK_ANSWERER=rules): eval tooling, imported only
    # when asked for.
    from service.embed.select import make_embedder
    from service.evaluation.rules_answerer import configured_answerer

    embedder = make_embedder(settings)
    return Factdesk(settings, embedder, configured_answerer(settings, embedder))


def _own_embedded_store(role: str, address: str | None = None) -> StoreOwner | None:
    """Hold the embedded store for this process (service/store/owner.py); exits 2 naming the
    owner when another process holds it. Nothing to hold with Chroma's server."""
    from service.config import get_settings
    from service.store import owner as store_owner

    settings = get_settings()
    if settings.chroma_url:
        return None
    owner = store_owner.StoreOwner(settings.data_dir)
    try:
        owner.take(role, address)
    except FactdeskError as error:
        _fail(error)
    return owner


def _fail(error: FactdeskError) -> None:
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    seed: Annotated[bool, typer.Option(help="Ingest seeds/ when the store is empty.")] = True,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes; more than one needs FACTDESK_CHROMA_URL.")] = 1,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    from service.config import get_settings

    settings = get_settings()
    if workers > 1 and not settings.chroma_url:
        # Chroma's embedded store (PersistentClient) is not safe for several processes.
        typer.echo(f"error: --workers {workers} needs Chroma's server: start one with `chroma "
                   "run --path DIR --port 8001` and set FACTDESK_CHROMA_URL (e.g. "
                   "http://127.0.0.1:8001); the embedded store in FACTDESK_DATA_DIR serves one "
                   "process only", err=True)
        raise typer.Exit(code=2)

    import logging

    import uvicorn

    from service.api.app import create_app
    from service.observability.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    owner = _own_embedded_store("serve", f"http://{host}:{port}")
    # With several workers this process seeds (once, before they start) and supervises; each
    # worker builds its own desk. Several machines seeding one empty store at once is safe:
    # the same content makes the same version, whose chunks and record are written twice.
    desk = _desk() if seed or workers == 1 else None
    if desk is not None and seed and desk.is_empty():
        for result in desk.ingest_seeds():
            typer.echo(f"seeded {result.id}: {result.title} ({result.chunks} chunks)")
    if not settings.api_key_entries() and host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("factdesk").warning(
            "FACTDESK_API_KEYS is not set: anyone who can reach %s:%s may read and change "
            "the documents", host, port)
    # log_config=None: uvicorn keeps the logging set up above; its access log is replaced by
    # factdesk's own line per request (service/api/middleware.py).
    if workers > 1:
        del desk
        if settings.rate_limit_per_minute and not settings.redis_url:
            logging.getLogger("factdesk").warning(
                "FACTDESK_REDIS_URL is not set: each of the %d workers counts the rate limit "
                "on its own, so a caller gets up to %d times FACTDESK_RATE_LIMIT_PER_MINUTE",
                workers, workers)
        with _shared_metrics_dir():
            uvicorn.run("service.cli:worker_app", factory=True, workers=workers, host=host,
                        port=port, log_config=None, access_log=False)
        return
    try:
        uvicorn.run(create_app(desk), host=host, port=port, log_config=None, access_log=False)
    finally:
        if owner is not None:
            owner.release()


@contextmanager
def _shared_metrics_dir() -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers (they inherit the environment): a new folder,
    or the one given, emptied of an earlier run's files (prometheus_client's multiprocess
    mode), so that /metrics on any worker counts them all."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="factdesk-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


def worker_app() -> FastAPI:
    """The app of one `serve --workers N` worker: its own desk over the shared Chroma server,
    kept in step with the other workers' writes by ``Factdesk.sync``."""
    from service.api.app import create_app
    from service.config import get_settings
    from service.observability.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(_desk())


@app.command()
def doctor(
    repair: Annotated[bool, typer.Option(
        help="Remove what no reader trusts and rebuild the indexes.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    url: Annotated[str | None, typer.Option(
        help="Ask a running service (http://host:port) what it sees against its store; the "
        "default when a server holds the embedded store.")] = None,
    api_key: Annotated[str | None, typer.Option(
        envvar="FACTDESK_API_KEY", help="A read key, for --url when the server has keys.")] = None,
) -> None:
    """Check that Chroma's articles and chunks, the catalog and the lexical index agree; exits
    1 when something is wrong and --repair was not given. With a running service (--url, or
    the server that holds the embedded store), the check is that service's: its own catalog
    and lexical index against the store. Repair stops the server first on the embedded store;
    with Chroma's server, repair while nothing is being ingested."""
    try:
        if url is None and not repair:
            url = _serving_address()
        if url is not None and repair:
            raise InvalidInput("--repair runs on the store itself, not through a running "
                               "service: stop the server, then run `factdesk doctor --repair`")
        if url is not None:
            typer.echo(f"the running service at {url}:", err=True)
            report = _service_doctor(url, api_key)
        else:
            owner = _own_embedded_store("doctor --repair") if repair else None
            found = _desk().doctor(repair=repair)
            if owner is not None:
                owner.release()
            report = asdict(found) | {"problems": found.problems}
    except FactdeskError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_doctor(report)
    if report["problems"] and report.get("repaired") is None:
        raise typer.Exit(code=1)


def _serving_address() -> str | None:
    """The address of the server holding the embedded store, when one does."""
    from service.config import get_settings
    from service.store.owner import StoreOwner

    settings = get_settings()
    if settings.chroma_url:
        return None
    holder = StoreOwner(settings.data_dir).holder()
    address = holder.get("address") if holder else None
    return str(address) if address else None


def _service_doctor(url: str, api_key: str | None) -> dict:
    import httpx

    from service.ingest_files import BatchFailed

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        reply = httpx.get(f"{url.rstrip('/')}/v1/doctor", headers=headers, timeout=120)
    except httpx.HTTPError as error:
        raise BatchFailed(f"the service at {url} could not be reached: {error}") from error
    if reply.status_code != 200:
        raise BatchFailed(f"the service at {url} answered {reply.status_code}: "
                          f"{reply.text[:200]}")
    return dict(reply.json())


def _print_doctor(report: dict) -> None:
    incomplete = report["incomplete_articles"]
    rows = [
        ("articles", report["articles"], ""),
        ("chunks", report["chunks"], ""),
        ("stale chunks", report["stale_chunks"], "of another version of their article"),
        ("orphan chunks", report["orphan_chunks"], "of no stored article"),
        ("incomplete articles", len(incomplete),
         " ".join(incomplete[:10]) + (" ..." if len(incomplete) > 10 else "")),
        ("lexical index missing", report["lexical_missing"], "current chunks not indexed"),
        ("lexical index extra", report["lexical_extra"], "indexed chunks not current"),
        ("catalog mismatched", report["catalog_mismatched"], "documents"),
    ]
    for name, count, note in rows:
        typer.echo(f"{name:22} {count:>8}  {note}".rstrip())
    repaired = report.get("repaired")
    if repaired is not None:
        typer.echo(f"repaired: removed {repaired['stale_chunks_removed']} chunks and "
                   f"{repaired['incomplete_articles_removed']} incomplete articles; "
                   f"{repaired['articles']} articles remain; indexes rebuilt")
    elif report["problems"]:
        typer.echo(f"{report['problems']} problems found; `factdesk doctor --repair` fixes them")
    else:
        typer.echo("consistent")


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Files or folders of articles (.txt, .md, .html, .pdf) and feed files (.rss, "
        ".atom, .xml).")] = None,
    feeds: Annotated[list[str] | None, typer.Option(
        "--feed", help="An RSS or Atom feed's address: its entries are ingested, an entry "
        "without text fetched from its link (repeat for several).")] = None,
    since: Annotated[str | None, typer.Option(
        help="Only feed entries published on or after this date (YYYY-MM-DD).")] = None,
    batch: Annotated[int, typer.Option(min=1, max=10000,
                                       help="Articles per batch (one batch ingest each).")] = 32,
    url: Annotated[str | None, typer.Option(
        help="Send the articles to a running server (http://host:port) instead of the local "
        "store.")] = None,
    api_key: Annotated[str | None, typer.Option(
        envvar="FACTDESK_API_KEY", help="A write key, for --url when the server has keys.")] = None,
    published: Annotated[str | None, typer.Option(
        help="Publication date of every file ingested (else read from each article).")] = None,
    source: Annotated[str | None, typer.Option(
        help="Source of every article ingested (for a feed: instead of its title).")] = None,
    author: Annotated[str | None, typer.Option(help="Author of every file ingested.")] = None,
    article_url: Annotated[str | None, typer.Option(
        help="Address of the article (for a single file).")] = None,
) -> None:
    """Ingest article files (a file's name, without suffix, is its id) and the entries of RSS
    or Atom feeds (an entry's link names it), a batch at a time, with a progress bar
    (articles/s, chunks/s, time left) on a terminal."""
    from service.ingest_files import (
        BatchSender,
        find_files,
        ingest_files,
        pending_feed_url,
        pending_files,
    )
    from service.scope import parse_day

    try:
        since_day = parse_day("since", since) if since else None
        files = find_files(paths or [])
        if not files and not feeds:
            where = " ".join(map(str, paths or []))
            raise InvalidInput(f"no files found in {where}" if where
                               else "name files or folders, or give --feed URL")
        if article_url is not None and len(files) + len(feeds or []) > 1:
            raise InvalidInput(f"--article-url names one article; {len(files)} files were "
                               "given")
        meta = {key: value for key, value in (("published", published), ("source", source),
                                              ("author", author), ("url", article_url))
                if value}
        items = pending_files(files, meta, since_day)
        for feed in feeds or []:
            items += pending_feed_url(feed, since_day, source)
    except FactdeskError as error:
        _fail(error)
        return
    if not items:
        typer.echo("nothing to ingest", err=True)
        return
    owner = None if url else _own_embedded_store("ingest")
    desk = None if url else _desk()
    sender = BatchSender(desk=desk, url=url, api_key=api_key)
    try:
        failed = ingest_files(items, sender, batch)
    except FactdeskError as error:
        _fail(error)
        return
    finally:
        if desk is not None:
            desk.close()
        if owner is not None:
            owner.release()
    if failed:
        raise typer.Exit(code=1)


# Filters shared by ask and summarize (service/scope.py).
PublishedAfter = Annotated[str | None, typer.Option(
    help="Only articles published on or after this date (YYYY-MM-DD).")]
PublishedBefore = Annotated[str | None, typer.Option(
    help="Only articles published on or before this date (YYYY-MM-DD).")]
Sources = Annotated[list[str] | None, typer.Option(
    "--source", help="Only articles from this source (repeat for several).")]
AsOf = Annotated[str | None, typer.Option(
    help="As it was known on this date: articles published later are left out.")]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    top_k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON answer.")] = False,
    mode: Annotated[str, typer.Option(
        help="offline, llm or auto (the LLM when one is configured, else offline).")] = "auto",
    document_ids: Annotated[list[str] | None, typer.Option(
        "--document", help="Search only this document (repeat for several).")] = None,
    published_after: PublishedAfter = None,
    published_before: PublishedBefore = None,
    sources: Sources = None,
    as_of: AsOf = None,
) -> None:
    """Ask a question of the stored articles."""
    from service.api.schemas import AskOut
    from service.scope import Scope

    try:
        scope = Scope.of(None, published_after, published_before, sources, as_of)
        answer = _desk().ask(question, top_k=top_k, mode=mode, document_ids=document_ids,
                             scope=scope)
    except FactdeskError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(AskOut.of(answer).model_dump_json(indent=2))
        return
    typer.echo(answer.answer if not answer.abstained else "Not found in the stored articles.")
    for n, c in enumerate(answer.citations, 1):
        typer.echo(f"  [{n}] {_cited(c)}: \"{c.quote}\"")
    for c in answer.supersedes:
        typer.echo(f"  superseded: {_cited(c)}: \"{c.quote}\"")
    unsupported = [s.text for s in answer.sentences if not s.supported and answer.mode == "llm"]
    for text in unsupported:
        typer.echo(f"  unsupported by the articles: \"{text}\"")
    described = f"{answer.mode}" + (f", fell back: {answer.fallback_reason}"
                                    if answer.fallback_reason else "")
    as_of_text = f", as of {answer.as_of}" if answer.as_of else ""
    typer.echo(f"  confidence {answer.confidence:.2f} ({described}{as_of_text})")


def _cited(c: Citation) -> str:
    dated = f", {c.dated}" if c.dated else ""
    source = f", {c.source}" if c.source else ""
    return f"{c.title} ({c.document_id} {c.start}-{c.end}{source}{dated})"


@app.command()
def summarize(
    document_ids: Annotated[list[str] | None, typer.Argument(
        help="Ids of the documents to summarize (see `factdesk documents`).")] = None,
    question: Annotated[str | None, typer.Option(
        help="Summarize what the stored articles say about this, instead of documents.")] = None,
    max_sentences: Annotated[int | None, typer.Option(help="At most this many sentences.")] = None,
    max_words: Annotated[int | None, typer.Option(help="At most this many words.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON summary.")] = False,
    mode: Annotated[str, typer.Option(
        help="offline, llm or auto (the LLM when one is configured, else offline).")] = "auto",
    published_after: PublishedAfter = None,
    published_before: PublishedBefore = None,
    sources: Sources = None,
    as_of: AsOf = None,
    timeline: Annotated[bool, typer.Option(
        help="A timeline: dated sentences, oldest first.")] = False,
) -> None:
    """Summarize stored articles (named, about a question, or those a filter admits); every
    sentence cites the span it comes from."""
    from service.api.schemas import SummaryOut
    from service.scope import Scope

    try:
        scope = Scope.of(None, published_after, published_before, sources, as_of)
        if not document_ids and question is None and not scope.filters_metadata:
            raise InvalidInput("name documents, give --question, or filter by date or source")
        summary = _desk().summarize(document_ids or None, question, max_sentences, max_words,
                                    mode, scope, timeline)
    except FactdeskError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(SummaryOut.of(summary).model_dump_json(indent=2))
        return
    for sentence in summary.sentences:
        dated = f"{sentence.date or 'Undated':10}  " if summary.timeline else ""
        typer.echo(dated + (sentence.text if sentence.supported
                            else f"{sentence.text}  (unsupported by the articles)"))
        for c in sentence.citations:
            typer.echo(f"  [{c.document_id} {c.start}-{c.end}] \"{c.quote}\"")
    described = summary.mode + (f", fell back: {summary.fallback_reason}"
                                if summary.fallback_reason else "")
    typer.echo(f"  ({described})")


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
        "squad-rc, squad-open and rgb; or summarize (ROUGE on SummEval).")] = None,
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


@app.command("train-reader")
def train_reader(
    data: Annotated[list[Path], typer.Option(
        "--data", help="SQuAD-format training JSON (repeat for several files).")],
    output: Annotated[Path, typer.Option(
        help="Where model.onnx, tokenizer.json and the training record go.")] = Path(
            "service/reader/model"),
    checkpoint_dir: Annotated[Path, typer.Option(
        help="Checkpoints (resumed from when present); keep it outside the repository.")] = Path(
            "../reader-checkpoints"),
    bench_dir: Annotated[Path, typer.Option(
        help="Benchmark data whose texts are kept out of training.")] = Path("../shared/bench"),
    max_examples: Annotated[int, typer.Option(
        help="Training windows over the whole learning-rate schedule.")] = 60_000,
    batch_size: Annotated[int, typer.Option()] = 32,
    learning_rate: Annotated[float, typer.Option()] = 1e-4,
    time_budget: Annotated[float | None, typer.Option(
        help="Stop after this many minutes of training (resume later).")] = None,
    holdout_share: Annotated[float, typer.Option(
        help="Share of articles (by title) held out for the no-answer margin.")] = 0.03,
    dev_questions: Annotated[int, typer.Option(help="Held-out questions scored.")] = 1500,
    quantize: Annotated[bool, typer.Option(help="int8 dynamic quantisation.")] = True,
    threads: Annotated[int | None, typer.Option(help="CPU threads.")] = None,
    export_only: Annotated[bool, typer.Option(
        help="Export and score the last checkpoint without training.")] = False,
    limit: Annotated[list[str] | None, typer.Option(
        help="FILE=N: train on at most N questions of that data file (by file name).")] = None,
    holdout: Annotated[list[str] | None, typer.Option(
        help="FILE=SHARE: hold out this share of that file's articles instead.")] = None,
    init_from: Annotated[Path | None, typer.Option(
        help="Start from an exported reader (model.onnx) instead of the base encoder.")] = None,
    negative_share: Annotated[float, typer.Option(
        help="Chance of each cut-sentence and same-article negative.")] = 0.3,
    swap_share: Annotated[float, typer.Option(
        help="Chance of a swapped-name-or-number negative.")] = 0.5,
    retrieved_share: Annotated[float, typer.Option(
        help="Chance of a negative retrieved (BM25) from another article.")] = 0.0,
    count_share: Annotated[float, typer.Option(
        help="Chance of a 'How many' question made to count something else.")] = 0.0,
) -> None:
    """Fine-tune the reader on extractive QA data and export it (needs the train extra)."""
    from service.training.train_command import TrainOptions, run

    try:
        limits = {k: int(v) for k, v in _pairs(limit or [], "--limit")}
        shares = {k: float(v) for k, v in _pairs(holdout or [], "--holdout")}
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None

    missing = [str(p) for p in data if not p.is_file()]
    if missing:
        typer.echo(f"error: no such data file: {', '.join(missing)}", err=True)
        raise typer.Exit(code=2)
    run(TrainOptions(
        data=data, output=output, checkpoint_dir=checkpoint_dir, bench_dir=bench_dir,
        max_examples=max_examples, batch_size=batch_size, learning_rate=learning_rate,
        time_budget_min=time_budget, holdout_share=holdout_share, dev_questions=dev_questions,
        quantize=quantize, threads=threads, export_only=export_only, limits=limits,
        holdout_shares=shares, init_from=init_from, negative_share=negative_share,
        swap_share=swap_share, retrieved_share=retrieved_share, count_share=count_share,
    ), lambda line: typer.echo(line))


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep or not name:
            raise ValueError(f"{option} takes FILE=VALUE, not {value!r}")
        float(number)  # raises ValueError naming the value
        pairs.append((name, number))
    return pairs


@app.command("calibrate-reader")
def calibrate_reader(
    data: Annotated[list[Path], typer.Option(
        "--data", help="SQuAD-format JSON: held-out articles of training files, or unseen files.")],
    model_dir: Annotated[Path, typer.Option(
        help="The reader to calibrate (with its training.json).")] = Path("service/reader/model"),
    bench_dir: Annotated[Path, typer.Option(
        help="Benchmark data whose texts are kept out.")] = Path("../shared/bench"),
    limit: Annotated[int | None, typer.Option(help="Ask at most this many questions.")] = None,
    seed: Annotated[int, typer.Option()] = 13,
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Default abstention threshold; unset: the one with the best "
        "SQuAD 2.0 F1 on the calibration questions.")] = None,
) -> None:
    """Fit the answerability model (confidence and abstention) on questions asked of an open
    store; writes answerability.json beside the reader (needs the train extra)."""
    from service.training.calibrate_command import run

    missing = [str(p) for p in data if not p.is_file()]
    if missing:
        typer.echo(f"error: no such data file: {', '.join(missing)}", err=True)
        raise typer.Exit(code=2)
    run(data, model_dir, bench_dir, limit, seed, lambda line: typer.echo(line), threshold)
