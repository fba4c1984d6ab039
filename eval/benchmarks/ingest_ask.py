"""Ingest and ask: factdesk against a naive LangChain-splitter + Chroma-default pipeline.

Run from the repository root::

    python eval/benchmarks/ingest_ask.py [--chunks 10000] [--questions 200] [--out FILE.json]

Both pipelines read the same texts from the shared benchmark data (``../shared/bench``): the
SummEval articles, the distinct SQuAD contexts and the RGB passages (positive + negative).
When one pass over them gives fewer chunks than asked for, further passes reuse the texts with
one line prefixed ("Copy k of ID.") and a new document id, so every text is a new document.

* factdesk: a fresh ``Factdesk`` on a temporary data directory, one ``ingest`` call per text,
  then ``ask`` over SQuAD and RGB questions, the one-query embedding time, the time to open the
  built store again (in this process and in a fresh one), and peak RSS after each phase.
* naive: ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` and a Chroma
  ``PersistentClient`` collection with Chroma's stock ``DefaultEmbeddingFunction``, one
  ``collection.add`` per text, then ``collection.query(query_texts=[q], n_results=8)``.
  Its model files are copied into a temporary ``HOME``; the real ``~/.cache`` is not touched.

Each pipeline runs in its own subprocess (this script with ``--only``) so peak RSS is per
pipeline; the two never run at the same time. Ratios are computed from figures of one run.
The machine may be shared and noisy: compare ratios within a run rather than figures across runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from common import cpu_seconds, jsonl, log, number, percentile, versions

DEFAULT_BENCH = REPO.parent / "shared" / "bench"
TOP_K = 8
NAIVE_CHUNK_CHARS = 1000
NAIVE_OVERLAP_CHARS = 200

GOAL_INGEST_RATIO = 1.5
GOAL_QUERY_EMBED_MS = 10.0
GOAL_ASK_P50_MS = 150.0

Result = dict[str, Any]


# ---------------------------------------------------------------- texts and questions


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    text: str
    copy: int  # 0 for the original text, k for the k-th reuse


def base_docs(bench: Path) -> list[Doc]:
    """One pass over the benchmark texts, in a fixed order."""
    docs: list[Doc] = []
    for i, item in enumerate(jsonl(bench / "summeval-dev.jsonl")):
        docs.append(Doc(f"summeval-{i:03d}", f"SummEval article {i}", item["article"], 0))
    contexts = dict.fromkeys(item["context"] for item in jsonl(bench / "squad2-dev.jsonl"))
    for i, context in enumerate(contexts):
        docs.append(Doc(f"squad-{i:03d}", f"SQuAD context {i}", context, 0))
    passages = dict.fromkeys(
        passage
        for item in jsonl(bench / "rgb-fact-dev.jsonl")
        for key in ("positive", "negative")
        for passage in item[key]
    )
    for i, passage in enumerate(passages):
        docs.append(Doc(f"rgb-{i:03d}", f"RGB passage {i}", passage, 0))
    return [d for d in docs if d.text.strip()]


def doc_stream(base: Sequence[Doc]) -> Iterator[Doc]:
    """The base texts, then endless copies of them, each with an index line prefixed."""
    yield from base
    for copy in itertools.count(1):
        for d in base:
            yield Doc(
                f"{d.doc_id}-c{copy:02d}",
                f"{d.title} (copy {copy})",
                f"Copy {copy} of {d.doc_id}.\n\n{d.text}",
                copy,
            )


def bench_questions(bench: Path, count: int) -> list[str]:
    """SQuAD and RGB questions, the RGB ones spread evenly among the SQuAD ones, cycled."""
    squad = [q["question"].strip() for q in jsonl(bench / "squad2-dev.jsonl")]
    rgb = [q["question"].strip() for q in jsonl(bench / "rgb-fact-dev.jsonl")]
    keyed = [(i / len(squad), q) for i, q in enumerate(squad) if q]
    keyed += [((i + 0.5) / len(rgb), q) for i, q in enumerate(rgb) if q]
    pool = [q for _, q in sorted(keyed, key=lambda pair: pair[0])]
    return [pool[i % len(pool)] for i in range(count)]


# ---------------------------------------------------------------- measuring helpers


class CallTimer:
    """Wraps a callable and records the wall time of every call."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.seconds: list[float] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - start)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latency_ms(seconds: Sequence[float]) -> Result:
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50_ms": percentile(seconds, 50) * 1000,
        "p95_ms": percentile(seconds, 95) * 1000,
        "mean_ms": statistics.fmean(seconds) * 1000,
        "max_ms": max(seconds) * 1000,
    }


def median_ms(fn: Callable[[str], object], texts: Sequence[str], repeats: int) -> float:
    fn(texts[0])  # warm-up
    times = []
    for i in range(repeats):
        text = texts[i % len(texts)]
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


# ---------------------------------------------------------------- factdesk


def run_factdesk(args: argparse.Namespace, data_dir: Path) -> Result:
    start = time.perf_counter()
    from service.config import Settings
    from service.desk import Factdesk

    import_s = time.perf_counter() - start
    settings = Settings(data_dir=data_dir)
    start = time.perf_counter()
    desk = Factdesk(settings)
    construct_empty_s = time.perf_counter() - start
    start = time.perf_counter()
    raw_embed = desk.embedder.embed
    raw_embed(["Load the model before timing ingest."])
    model_load_s = time.perf_counter() - start
    rss = {"start-up": peak_rss_mib()}

    embed_timer = CallTimer(raw_embed)
    desk.embedder.embed = embed_timer
    chunks = chars = texts = copies = 0
    next_report = 1000
    log(f"factdesk: ingesting until {args.chunks} chunks ...")
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    for doc in doc_stream(base_docs(args.bench_dir)):
        if chunks >= args.chunks:
            break
        result = desk.ingest(doc.text, "text", document_id=doc.doc_id, title=doc.title)
        chunks += result.chunks
        chars += len(doc.text)
        texts += 1
        copies = max(copies, doc.copy)
        if chunks >= next_report:
            elapsed = time.perf_counter() - start
            log(f"  {chunks} chunks, {elapsed:.0f} s, {chunks / elapsed:.1f} chunks/s")
            next_report += 1000
    ingest_s = time.perf_counter() - start
    ingest_cpu_s = cpu_seconds() - cpu_start
    embed_in_ingest_s = sum(embed_timer.seconds)
    rss["ingest"] = peak_rss_mib()

    questions = bench_questions(args.bench_dir, args.questions)
    log(f"factdesk: {len(questions)} asks ...")
    retrieve_timer = CallTimer(desk.retriever.retrieve)
    desk.retriever.retrieve = retrieve_timer
    start = time.perf_counter()
    desk.ask(questions[0], TOP_K)  # warm-up; builds the BM25 index after the ingest
    warmup_ask_s = time.perf_counter() - start
    retrieve_timer.seconds.clear()
    embed_timer.seconds.clear()
    ask_seconds: list[float] = []
    abstained = 0
    cpu_start = cpu_seconds()
    for question in questions:
        start = time.perf_counter()
        answer = desk.ask(question, TOP_K)
        ask_seconds.append(time.perf_counter() - start)
        abstained += answer.abstained
    ask_cpu_s = cpu_seconds() - cpu_start
    retrieve_seconds = list(retrieve_timer.seconds)
    embeds_per_ask = len(embed_timer.seconds) / len(questions)
    embed_per_ask_ms = sum(embed_timer.seconds) / len(questions) * 1000
    desk.embedder.embed = raw_embed
    query_embed_ms = median_ms(lambda q: raw_embed([q]), questions, args.embed_repeats)
    rss["asks"] = peak_rss_mib()

    log("factdesk: opening the built store again ...")
    start = time.perf_counter()
    reopened = Factdesk(settings)
    reload_s = time.perf_counter() - start
    lexical_chunks = len(reopened.lexical)
    start = time.perf_counter()
    reopened.ask(questions[1 % len(questions)], TOP_K)
    first_ask_after_reload_s = time.perf_counter() - start
    rss["reload"] = peak_rss_mib()

    if args.profile_asks:
        # The questions that follow the timed ones in the cycle: not asked before, when the
        # pool is large enough, so caches warmed by the timed asks do not hide the cost.
        later = bench_questions(args.bench_dir, args.questions + args.profile_asks)
        profile_asks(desk, later[args.questions :], seen=set(questions))

    return {
        "texts": texts,
        "copies": copies,
        "chunks": chunks,
        "chars": chars,
        "ingest_s": ingest_s,
        "ingest_cpu_s": ingest_cpu_s,
        "chunks_per_s": chunks / ingest_s,
        "chars_per_s": chars / ingest_s,
        "embed_in_ingest_s": embed_in_ingest_s,
        "import_s": import_s,
        "construct_empty_s": construct_empty_s,
        "model_load_s": model_load_s,
        "warmup_ask_s": warmup_ask_s,
        "ask": latency_ms(ask_seconds),
        "ask_cpu_s": ask_cpu_s,
        "ask_wall_s": sum(ask_seconds),
        "retrieve": latency_ms(retrieve_seconds),
        "embeds_per_ask": embeds_per_ask,
        "embed_per_ask_ms": embed_per_ask_ms,
        "abstained": abstained,
        "questions": len(questions),
        "query_embed_ms": query_embed_ms,
        "query_embed_repeats": args.embed_repeats,
        "reload_s": reload_s,
        "reload_lexical_chunks": lexical_chunks,
        "first_ask_after_reload_s": first_ask_after_reload_s,
        "peak_rss_mib": rss,
    }


def profile_asks(desk: Any, questions: Sequence[str], seen: set[str]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        desk.ask(question, TOP_K)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(15)
    repeated = sum(q in seen for q in questions)
    print(f"\n## cProfile of {len(questions)} asks after the timed ones "
          f"({repeated} of them among the timed questions)")
    print(out.getvalue(), flush=True)


def run_startup(args: argparse.Namespace, data_dir: Path) -> Result:
    """A fresh process opening a built store: imports, construction, first ask."""
    start = time.perf_counter()
    from service.config import Settings
    from service.desk import Factdesk

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    desk = Factdesk(Settings(data_dir=data_dir))
    construct_s = time.perf_counter() - start
    question = bench_questions(args.bench_dir, 1)[0]
    start = time.perf_counter()
    desk.ask(question, TOP_K)
    first_ask_s = time.perf_counter() - start
    return {
        "import_s": import_s,
        "construct_s": construct_s,
        "first_ask_s": first_ask_s,
        "lexical_chunks": len(desk.lexical),
        "peak_rss_mib": peak_rss_mib(),
    }


# ---------------------------------------------------------------- naive pipeline


def run_naive(args: argparse.Namespace, work_dir: Path) -> Result:
    # Chroma's stock function looks for its model under $HOME; give it a temporary HOME with
    # the six files placed, before chromadb is imported.
    home = work_dir / "home"
    os.environ["HOME"] = str(home)
    start = time.perf_counter()
    import chromadb
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from service.embed.minilm import place_files_for_chroma_default

    import_s = time.perf_counter() - start
    placed = place_files_for_chroma_default(home)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = placed.parent  # fixed at import; make sure it is ours
    rss = {"start-up": peak_rss_mib()}

    client = chromadb.PersistentClient(path=str(work_dir / "chroma"))
    function = DefaultEmbeddingFunction()
    collection = client.create_collection(
        "naive", embedding_function=function  # type: ignore[arg-type]
    )
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=NAIVE_CHUNK_CHARS, chunk_overlap=NAIVE_OVERLAP_CHARS
    )
    chunks = chars = texts = copies = 0
    next_report = 500
    log(f"naive: ingesting until {args.naive_chunks} chunks ...")
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    for doc in doc_stream(base_docs(args.bench_dir)):
        if chunks >= args.naive_chunks:
            break
        pieces = splitter.split_text(doc.text)
        if pieces:
            collection.add(documents=pieces, ids=[f"{doc.doc_id}:{i}" for i in range(len(pieces))])
        chunks += len(pieces)
        chars += len(doc.text)
        texts += 1
        copies = max(copies, doc.copy)
        if chunks >= next_report:
            elapsed = time.perf_counter() - start
            log(f"  {chunks} chunks, {elapsed:.0f} s, {chunks / elapsed:.1f} chunks/s")
            next_report += 500
    ingest_s = time.perf_counter() - start
    ingest_cpu_s = cpu_seconds() - cpu_start
    rss["ingest"] = peak_rss_mib()

    questions = bench_questions(args.bench_dir, args.naive_questions or args.questions)
    log(f"naive: {len(questions)} queries ...")
    collection.query(query_texts=[questions[0]], n_results=TOP_K)  # warm-up
    query_seconds = []
    for question in questions:
        start = time.perf_counter()
        collection.query(query_texts=[question], n_results=TOP_K)
        query_seconds.append(time.perf_counter() - start)
    query_embed_ms = median_ms(lambda q: function([q]), questions, args.stock_embed_repeats)
    rss["queries"] = peak_rss_mib()
    return {
        "texts": texts,
        "copies": copies,
        "chunks": chunks,
        "chars": chars,
        "ingest_s": ingest_s,
        "ingest_cpu_s": ingest_cpu_s,
        "chunks_per_s": chunks / ingest_s,
        "chars_per_s": chars / ingest_s,
        "import_s": import_s,
        "query": latency_ms(query_seconds),
        "query_embed_ms": query_embed_ms,
        "query_embed_repeats": args.stock_embed_repeats,
        "peak_rss_mib": rss,
    }


# ---------------------------------------------------------------- driver


def run_child(args: argparse.Namespace, part: str, work_dir: Path) -> Result:
    out = work_dir / f"{part}.json"
    # The start-up run opens the store the factdesk run built.
    part_dir = work_dir / ("factdesk" if part == "startup" else part)
    part_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, str(Path(__file__).resolve()), "--only", part,
        "--work-dir", str(part_dir), "--out", str(out),
        "--bench-dir", str(args.bench_dir),
        "--chunks", str(args.chunks), "--questions", str(args.questions),
        "--naive-chunks", str(args.naive_chunks),
        "--naive-questions", str(args.naive_questions or args.questions),
        "--embed-repeats", str(args.embed_repeats),
        "--stock-embed-repeats", str(args.stock_embed_repeats),
        "--profile-asks", str(args.profile_asks),
    ]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, check=False)
    wall_s = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    if completed.returncode != 0:
        raise SystemExit(f"the {part} run failed (exit code {completed.returncode})")
    result: Result = json.loads(out.read_text())
    result["process_wall_s"] = wall_s
    result["load_average_1min"] = {"before": load_before, "after": load_after}
    return result


def texts_summary(bench: Path) -> Result:
    docs = base_docs(bench)
    kinds = {
        kind: sum(d.doc_id.startswith(kind) for d in docs)
        for kind in ("summeval", "squad", "rgb")
    }
    return {"texts_per_pass": len(docs), "chars_per_pass": sum(len(d.text) for d in docs), **kinds}


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())


def report(summary: Result) -> None:
    fd, naive, cold, ratios = (
        summary["factdesk"], summary["naive"], summary["startup"], summary["ratios"]
    )
    texts = summary["texts"]
    env = summary["environment"]
    print("\n# Ingest and ask benchmark")
    print(f"machine: {env['cpu_count']} CPUs; "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    loads = ", ".join(
        f"{name} {part['load_average_1min']['before']:.1f} -> "
        f"{part['load_average_1min']['after']:.1f}"
        for name, part in (("factdesk", fd), ("start-up", cold), ("naive", naive))
    )
    print(f"1-minute load average around each run: {loads} "
          "(above the CPU count, other work competed for the cores)")
    print(f"texts per pass: {texts['texts_per_pass']} ({texts['summeval']} SummEval articles, "
          f"{texts['squad']} SQuAD contexts, {texts['rgb']} RGB passages), "
          f"{number(texts['chars_per_pass'])} chars")
    for name, part in (("factdesk", fd), ("naive", naive)):
        reuse = (
            f"; texts reused {part['copies']} more time(s) with a 'Copy k of ID.' line prefixed"
            if part["copies"] else ""
        )
        print(f"{name}: {number(part['chunks'])} chunks from {number(part['texts'])} texts"
              f"{reuse}")
    print(f"naive covers the first {number(naive['texts'])} texts of the same sequence "
          f"(--naive-chunks {summary['args']['naive_chunks']}); factdesk does all "
          f"(--chunks {summary['args']['chunks']}).")

    table("Ingest (one call per text)", ("measure", "factdesk", "naive", "factdesk/naive"), [
        ("chunks", number(fd["chunks"]), number(naive["chunks"]), ""),
        ("chars ingested", number(fd["chars"]), number(naive["chars"]), ""),
        ("mean chars per chunk", number(fd["chars"] / fd["chunks"]),
         number(naive["chars"] / naive["chunks"]), ""),
        ("wall time, s", number(fd["ingest_s"], 1), number(naive["ingest_s"], 1), ""),
        ("chunks/s", number(fd["chunks_per_s"], 1), number(naive["chunks_per_s"], 1),
         f"{ratios['chunks_per_s']:.2f}x"),
        ("chars/s", number(fd["chars_per_s"]), number(naive["chars_per_s"]),
         f"{ratios['chars_per_s']:.2f}x"),
        ("CPU time / wall time (2.0 = both cores busy)",
         f"{fd['ingest_cpu_s'] / fd['ingest_s']:.2f}",
         f"{naive['ingest_cpu_s'] / naive['ingest_s']:.2f}", ""),
        ("share of ingest wall time in embed()",
         f"{fd['embed_in_ingest_s'] / fd['ingest_s']:.0%}", "n/a", ""),
    ])

    ask, retrieve, query = fd["ask"], fd["retrieve"], naive["query"]
    table("Questions (top_k 8)", ("measure", "p50 ms", "p95 ms", "mean ms", "max ms", "n"), [
        ("factdesk ask (retrieve + answer)", number(ask["p50_ms"], 1), number(ask["p95_ms"], 1),
         number(ask["mean_ms"], 1), number(ask["max_ms"], 1), str(ask["n"])),
        ("  of which retrieve (hybrid)", number(retrieve["p50_ms"], 1), number(retrieve["p95_ms"], 1),
         number(retrieve["mean_ms"], 1), number(retrieve["max_ms"], 1), str(retrieve["n"])),
        ("naive collection.query", number(query["p50_ms"], 1), number(query["p95_ms"], 1),
         number(query["mean_ms"], 1), number(query["max_ms"], 1), str(query["n"])),
    ])
    print(f"factdesk: {fd['abstained']} of {fd['questions']} asks abstained; "
          f"{fd['embeds_per_ask']:.1f} embed calls per ask taking {fd['embed_per_ask_ms']:.1f} ms "
          f"on average; CPU/wall during asks {fd['ask_cpu_s'] / fd['ask_wall_s']:.2f}; "
          f"warm-up ask (builds BM25 after ingest) {fd['warmup_ask_s'] * 1000:,.0f} ms")

    header = ("measure", "factdesk", "chroma stock", "speed-up")
    table("One short query embedded (median)", header, [
        ("ms per query", f"{fd['query_embed_ms']:.2f}", f"{naive['query_embed_ms']:.1f}",
         f"{ratios['query_embed_speedup']:.1f}x"),
        ("calls timed", str(fd["query_embed_repeats"]), str(naive["query_embed_repeats"]), ""),
    ])

    table("factdesk start-up", ("measure", "seconds"), [
        ("construct on empty store (first in process)", f"{fd['construct_empty_s']:.2f}"),
        ("ONNX model load (first embed)", f"{fd['model_load_s']:.2f}"),
        (f"construct on built store, same process (reload, {fd['reload_lexical_chunks']:,} "
         "chunks)", f"{fd['reload_s']:.2f}"),
        ("  then its first ask (builds BM25)", f"{fd['first_ask_after_reload_s']:.2f}"),
        ("fresh process: imports", f"{cold['import_s']:.2f}"),
        ("fresh process: construct on built store", f"{cold['construct_s']:.2f}"),
        ("fresh process: first ask (model load + BM25)", f"{cold['first_ask_s']:.2f}"),
    ])

    rows = []
    for phase in ("start-up", "ingest"):
        rows.append((f"after {phase}", number(fd["peak_rss_mib"][phase]),
                     number(naive["peak_rss_mib"][phase])))
    rows.append(("after asks / queries", number(fd["peak_rss_mib"]["asks"]),
                 number(naive["peak_rss_mib"]["queries"])))
    rows.append(("after reload of the built store", number(fd["peak_rss_mib"]["reload"]), ""))
    rows.append(("fresh process: open store + first ask", number(cold["peak_rss_mib"]), ""))
    table("Peak RSS, MiB (each pipeline in its own process)", ("phase", "factdesk", "naive"), rows)

    goals = summary["goals"]
    table("Goals", ("goal", "measured", "result"), [
        (g["goal"], g["measured"], "PASS" if g["passed"] else "FAIL") for g in goals
    ])


def compare(args: argparse.Namespace) -> Result:
    with tempfile.TemporaryDirectory(prefix="factdesk-bench-") as tmp:
        work = Path(tmp)
        fd = run_child(args, "factdesk", work)
        cold = run_child(args, "startup", work)
        naive = run_child(args, "naive", work)
    ratios = {
        "chunks_per_s": fd["chunks_per_s"] / naive["chunks_per_s"],
        "chars_per_s": fd["chars_per_s"] / naive["chars_per_s"],
        "query_embed_speedup": naive["query_embed_ms"] / fd["query_embed_ms"],
    }
    goals = [
        {"goal": f"ingest >= {GOAL_INGEST_RATIO}x naive chunks/s",
         "measured": f"{ratios['chunks_per_s']:.2f}x (chars/s {ratios['chars_per_s']:.2f}x)",
         "passed": ratios["chunks_per_s"] >= GOAL_INGEST_RATIO},
        {"goal": f"one query embedded < {GOAL_QUERY_EMBED_MS:g} ms",
         "measured": f"{fd['query_embed_ms']:.2f} ms",
         "passed": fd["query_embed_ms"] < GOAL_QUERY_EMBED_MS},
        {"goal": f"ask p50 < {GOAL_ASK_P50_MS:g} ms",
         "measured": f"{fd['ask']['p50_ms']:.1f} ms",
         "passed": fd["ask"]["p50_ms"] < GOAL_ASK_P50_MS},
    ]
    return {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "environment": {"cpu_count": os.cpu_count(), "versions": versions(("chromadb", "onnxruntime", "langchain-text-splitters", "bm25s", "tokenizers"))},
        "texts": texts_summary(args.bench_dir),
        "factdesk": fd,
        "startup": cold,
        "naive": naive,
        "ratios": ratios,
        "goals": goals,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest and ask throughput and latency: factdesk vs a naive pipeline."
    )
    parser.add_argument("--chunks", type=int, default=10_000,
                        help="factdesk ingests texts until it holds at least this many chunks")
    parser.add_argument("--questions", type=int, default=200, help="factdesk asks timed")
    parser.add_argument("--naive-chunks", type=int, default=2_000,
                        help="the naive pipeline ingests until it holds this many chunks")
    parser.add_argument("--naive-questions", type=int, default=0,
                        help="naive queries timed (default: --questions)")
    parser.add_argument("--embed-repeats", type=int, default=200,
                        help="calls timed for factdesk's one-query embedding")
    parser.add_argument("--stock-embed-repeats", type=int, default=20,
                        help="calls timed for Chroma's stock function (~0.2 s each)")
    parser.add_argument("--profile-asks", type=int, default=0,
                        help="after the timed asks, cProfile this many more and print the top")
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--out", type=Path, help="write all figures as JSON here")
    parser.add_argument("--only", choices=("factdesk", "naive", "startup"),
                        help="run one part in this process and write its JSON to --out")
    parser.add_argument("--work-dir", type=Path,
                        help="with --only: data directory (startup: a store built by factdesk)")
    args = parser.parse_args(argv)
    if min(args.chunks, args.questions, args.naive_chunks, args.embed_repeats,
           args.stock_embed_repeats) < 1:
        parser.error("counts must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = ("summeval-dev.jsonl", "squad2-dev.jsonl", "rgb-fact-dev.jsonl")
    missing = [n for n in names if not (args.bench_dir / n).is_file()]
    if missing:
        print(f"Benchmark data not found in {args.bench_dir} (missing: {', '.join(missing)}); "
              "nothing to measure. Point --bench-dir at the shared bench folder.")
        return 0

    if args.only:
        if args.only == "startup" and args.work_dir is None:
            raise SystemExit("--only startup needs --work-dir pointing at a built store")
        if args.work_dir is None:
            with tempfile.TemporaryDirectory(prefix=f"factdesk-bench-{args.only}-") as tmp:
                result = run_part(args, Path(tmp))
        else:
            result = run_part(args, args.work_dir)
        text = json.dumps(result, indent=2)
        if args.out:
            args.out.write_text(text)
        else:
            print(text)
        return 0

    summary = compare(args)
    report(summary)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
        print(f"\nfigures written to {args.out}")
    return 0


def run_part(args: argparse.Namespace, work_dir: Path) -> Result:
    if args.only == "factdesk":
        return run_factdesk(args, work_dir)
    if args.only == "naive":
        return run_naive(args, work_dir)
    return run_startup(args, work_dir)


if __name__ == "__main__":
    sys.exit(main())
