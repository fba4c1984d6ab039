"""Scale: ingest throughput, ask latency, memory, start-up and disk at 1k, 10k and 100k chunks.

Run from the repository root::

    python eval/benchmarks/scale.py [--sizes 1000 10000 100000] [--server] [--cache DIR]

Prints figures and how they grow with the store; it is not a timed test and passes or fails
nothing (the goals are printed beside the figures).

Texts. The SummEval articles, the distinct SQuAD contexts and the RGB passages from
``../shared/bench/`` and the articles in ``seeds/`` are cut into *half-chunks*: every run of
consecutive sentences of one paragraph that is 41 to 79 MiniLM tokens long and holds no line
break (about 2,100 distinct texts). A stored chunk is two half-chunks drawn at random, joined
by a line break (82 to 158 tokens; no pair is used twice), and a synthetic article is 3 to 12
such chunks separated by blank lines. Because two of them never fit in one 160-token chunk,
factdesk's own chunker cuts the article back into exactly those chunks (checked on every
chunk: a chunk that is not a known pair is embedded for real and counted).

Vectors. Each half-chunk is embedded once with the real MiniLM model and cached on disk by a
hash of its text (``DIR/vectors/``; a rerun embeds nothing). A chunk's vector is the
re-normalised mean of its two halves' vectors. The script measures how close that is to the
real embedding of the joined text on a sample, and measures the real embedding throughput on
the same sample, from which the real ingest time of every size is extrapolated. Reusing the
vector of an identical chunk text instead would put each vector in the store about 40 times
at 100k chunks: an HNSW graph of exact duplicates, and eight identical passages per answer,
flatter the figures.

Ingest goes through the real write path: ``Factdesk.ingest`` (parse, chunk, embed, Chroma
upsert, lexical index) with an embedder that answers from those vectors. Questions (asked in a
fresh process, with the real embedder; none asked twice) come from ``eval/datasets/seed.yaml``,
SQuAD and RGB.

Start-up is a fresh process constructing ``Factdesk`` on the built store and answering one
question. Each size is opened twice: first with the desk's lexical cache removed (with
``--server``, against a freshly started server), then again with the cache that first open
left; the second process also times the asks (with the server, more asks with their check of
the store's change records, and one background re-read of every article record), one ingest and one delete each followed by an ask (the BM25
index is rebuilt after a write), and records peak RSS after each phase.

Every build and every measurement runs in its own subprocess (this script with ``--only``), so
peak RSS (``VmHWM``) is per size. With ``--server`` each size is also built and asked through
``chroma run`` (started and stopped here, on a free port; the desk's own files go to
``DIR/stores/server-N-desk``); the server's peak RSS is read from ``/proc``. Stores live in
``DIR/stores/`` (default ``/tmp/factdesk-scale``); ``--reuse`` opens a store built by an
earlier run instead of building it again (the ingest figures are then that build's, and the
output says so). Every result records the commit and a hash of ``service/`` it measured.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from common import log, versions
from scale_build import run_build
from scale_probes import ChromaServer, lexical_cache_folder, store_bytes
from scale_report import report
from scale_serve import run_serve
from scale_texts import (
    BENCH_FILES,
    DEFAULT_BENCH,
    DEFAULT_CACHE,
    SYNTHESIS,
    Result,
    prepare_vectors,
)

# ---------------------------------------------------------------- driver


def run_child(args: argparse.Namespace, part: str, mode: str, size: int, store: Path,
              data_dir: Path, chroma_url: str | None) -> Result:
    out = store.parent / f"{store.name}.{part}.json"
    command = [
        sys.executable, str(Path(__file__).resolve()), "--only", part, "--mode", mode,
        "--size", str(size), "--store", str(store), "--data-dir", str(data_dir),
        "--cache", str(args.cache), "--bench-dir", str(args.bench_dir),
        "--questions", str(args.questions), "--out", str(out),
    ]
    if chroma_url:
        command += ["--chroma-url", chroma_url]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"the {part} run ({mode}, {size}) failed "
                         f"(exit code {completed.returncode})")
    result: Result = json.loads(out.read_text())
    result["process_wall_s"] = time.perf_counter() - start
    result["load_average_1min"] = {"before": load_before, "after": os.getloadavg()[0]}
    return result


def measure_size(args: argparse.Namespace, mode: str, size: int) -> Result:
    """Build (or reuse) the store; open it with no lexical cache (a fresh server too), then
    open it again, with the cache the first open left, and ask."""
    stores = args.cache / "stores"
    stores.mkdir(parents=True, exist_ok=True)
    store = stores / f"{mode}-{size}"
    # With the server, the desk's own files (its lexical cache) live apart from Chroma's.
    data_dir = store if mode == "embedded" else stores / f"{mode}-{size}-desk"
    manifest = store.parent / f"{store.name}.build.json"
    build: Result | None = None
    if args.reuse and store.is_dir() and manifest.is_file():
        saved = json.loads(manifest.read_text())
        if saved.get("synthesis") == SYNTHESIS and saved.get("chunks", 0) >= size:
            build = saved
            build["reused"] = True
            log(f"{mode} {size}: reusing the store built {saved.get('built_at')} at {store}")
    server_log = args.cache / "chroma-server.log"
    if build is None:
        for folder in {store, data_dir}:
            shutil.rmtree(folder, ignore_errors=True)
        manifest.unlink(missing_ok=True)
        store.mkdir(parents=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        log(f"{mode} {size}: building {store} ...")
        if mode == "server":
            with ChromaServer(store, server_log) as server:
                build = run_child(args, "build", mode, size, store, data_dir, server.url)
                build["server_peak_rss_mib"] = server.peak_rss_mib()
        else:
            build = run_child(args, "build", mode, size, store, data_dir, None)
        build["reused"] = False
        manifest.write_text(json.dumps(build, indent=2))
    data_dir.mkdir(parents=True, exist_ok=True)

    cache = lexical_cache_folder(data_dir)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
    with ChromaServer(store, server_log) if mode == "server" else _no_server() as server:
        url = server.url if server else None
        log(f"{mode} {size}: opening the store in a fresh process, no lexical cache ...")
        cold = run_child(args, "startup", mode, size, store, data_dir, url)
        log(f"{mode} {size}: opening it again in a fresh process, and asking ...")
        serve = run_child(args, "serve", mode, size, store, data_dir, url)
        if server:
            serve["server_startup_s"] = server.startup_s
            serve["server_rss_mib"] = server.rss_mib()
            serve["server_peak_rss_mib"] = server.peak_rss_mib()
    cache_bytes = store_bytes(cache)["total"] if cache is not None and cache.is_dir() else 0
    return {"mode": mode, "size": size, "store": str(store), "build": build, "cold": cold,
            "serve": serve, "disk_bytes": store_bytes(store, skip=cache),
            "lexical_cache_bytes": cache_bytes}


@contextlib.contextmanager
def _no_server() -> Iterator[None]:
    yield None


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest, ask, memory, start-up and disk at growing store sizes.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                        help="store sizes in chunks (each store holds at least this many)")
    parser.add_argument("--server", action="store_true",
                        help="also build and ask each size through `chroma run`")
    parser.add_argument("--server-only", action="store_true",
                        help="measure the Chroma server only (not the embedded store)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="vectors and stores (default /tmp/factdesk-scale)")
    parser.add_argument("--reuse", action="store_true",
                        help="open stores an earlier run built in --cache instead of building")
    parser.add_argument("--questions", type=int, default=50, help="timed asks per size")
    parser.add_argument("--embed-sample", type=int, default=128,
                        help="chunks embedded for real to measure the embedding throughput")
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--out", type=Path,
                        help="write every figure as JSON here (default CACHE/scale.json)")
    # One part in this process (used by the driver).
    parser.add_argument("--only", choices=("build", "startup", "serve"), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="embedded", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.label = f"{args.mode} {args.size}"
    if args.data_dir is None:
        args.data_dir = args.store
    if min([*args.sizes, args.questions, args.embed_sample]) < 1:
        parser.error("sizes and counts must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [n for n in BENCH_FILES if not (args.bench_dir / n).is_file()]
    if missing:
        print(f"Benchmark data not found in {args.bench_dir} (missing: {', '.join(missing)}); "
              "nothing to measure. Point --bench-dir at the shared bench folder.")
        return 0

    if args.only:
        result = run_build(args) if args.only == "build" else run_serve(args)
        args.out.write_text(json.dumps(result, indent=2))
        return 0

    modes = (["server"] if args.server_only else
             ["embedded", "server"] if args.server else ["embedded"])
    started = time.perf_counter()
    vectors = prepare_vectors(args)
    log(f"real embedding: {vectors['embed_chunks_per_s']:.1f} chunks/s; derived vectors vs "
        f"real: median cosine {vectors['derived_vs_real_cosine']['median']:.3f}")
    runs = []
    out = args.out or args.cache / "scale.json"
    for mode in modes:
        for size in sorted(args.sizes):
            runs.append(measure_size(args, mode, size))
            summary = {
                "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "environment": {"cpu_count": os.cpu_count(), "versions": versions(("chromadb", "onnxruntime", "bm25s", "tokenizers", "numpy"))},
                "vectors": vectors,
                "runs": runs,
                "wall_s": time.perf_counter() - started,
            }
            out.write_text(json.dumps(summary, indent=2))  # kept up to date after each size
    report(summary)
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
