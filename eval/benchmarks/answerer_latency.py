"""Ask latency of the offline answerers on one store: the trained reader (the default) against
the earlier rule-based answerer (``FACTDESK_ANSWERER=rules``), in one process, one run.

Run from the repository root::

    python eval/benchmarks/answerer_latency.py [--size 10000] [--questions 100] [--reuse]

The store is the one ``scale.py`` builds (synthetic news articles cut from the shared bench
texts, ``--cache DIR/stores/embedded-N``; ``--reuse`` opens one an earlier run of either script
built). Each question is asked once by each answerer with ``top_k`` 8 in offline mode, the two
in alternating order, so that neither always meets a warm question-embedding cache; the time
spent inside the answerer itself is reported beside the whole ask. It prints figures and
passes or fails nothing; the goals are printed beside them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import scale
import scale_texts
from common import log, percentile, versions
from scale_probes import Stopwatch

GOAL_P50_MS = 150.0
GOAL_P95_MS = 300.0
ANSWERERS = ("reader", "rules")


def ensure_store(args: argparse.Namespace) -> Path:
    """The embedded store of ``args.size`` chunks, built as scale.py builds it (or reused)."""
    scale_args = scale.parse_args(["--sizes", str(args.size), "--cache", str(args.cache),
                                   "--bench-dir", str(args.bench_dir)])
    store = args.cache / "stores" / f"embedded-{args.size}"
    manifest = store.parent / f"{store.name}.build.json"
    if args.reuse and store.is_dir() and manifest.is_file():
        saved = json.loads(manifest.read_text())
        if saved.get("synthesis") == scale_texts.SYNTHESIS and saved.get("chunks", 0) >= args.size:
            log(f"reusing the store built {saved.get('built_at')} at {store}")
            return store
    scale_texts.prepare_vectors(scale_args)
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    log(f"building {store} ...")
    build = scale.run_child(scale_args, "build", "embedded", args.size, store, store, None)
    build["reused"] = False
    manifest.write_text(json.dumps(build, indent=2))
    return store


def measure(args: argparse.Namespace, store: Path) -> dict[str, Any]:
    import service.ask as ask_module
    import service.evaluation.rules_answerer as rules_module
    from service.config import Settings
    from service.desk import Factdesk
    from service.domain import AnswerMode

    settings = Settings(data_dir=store, chunk_tokens=scale_texts.CHUNK_TOKENS,
                        chunk_overlap_tokens=scale_texts.OVERLAP_TOKENS)
    desk = Factdesk(settings)
    watch = Stopwatch()
    watch.patch(ask_module, "answer_offline", "answerer")
    watch.patch(rules_module, "answer_by_rules", "answerer")
    # Each answerer in turn in the reader's place: None is the reader itself.
    in_place = {"reader": None, "rules": rules_module.rules_answerer(desk.embedder)}

    pool = scale_texts.questions(args.bench_dir, args.questions + 1)
    for answerer in ANSWERERS:  # warm-up: model sessions load, caches fill
        desk.asker.answerer = in_place[answerer]
        desk.ask(pool[0], scale_texts.TOP_K, mode=AnswerMode.OFFLINE)
    figures: dict[str, dict[str, list[float]]] = {
        a: {"ask": [], "answerer": [], "abstained": []} for a in ANSWERERS}
    for i, question in enumerate(pool[1:]):
        for answerer in ANSWERERS if i % 2 == 0 else ANSWERERS[::-1]:
            desk.asker.answerer = in_place[answerer]
            watch.take()
            start = time.perf_counter()
            answer = desk.ask(question, scale_texts.TOP_K, mode=AnswerMode.OFFLINE)
            figures[answerer]["ask"].append(time.perf_counter() - start)
            figures[answerer]["answerer"].append(watch.take().get("answerer", 0.0))
            figures[answerer]["abstained"].append(float(answer.abstained))
        if (i + 1) % 20 == 0:
            log(f"  {i + 1}/{len(pool) - 1} questions")
    n_docs, n_chunks = desk.counts()
    return {
        "chunks": n_chunks, "docs": n_docs, "questions": len(pool) - 1, "top_k": scale_texts.TOP_K,
        "reader_passages": settings.reader_passages,
        "answerers": {a: _summary(f) for a, f in figures.items()},
    }


def _summary(figures: dict[str, list[float]]) -> dict[str, float]:
    return {
        "ask_p50_ms": percentile(figures["ask"], 50) * 1000,
        "ask_p95_ms": percentile(figures["ask"], 95) * 1000,
        "ask_mean_ms": statistics.fmean(figures["ask"]) * 1000,
        "answerer_p50_ms": percentile(figures["answerer"], 50) * 1000,
        "answerer_p95_ms": percentile(figures["answerer"], 95) * 1000,
        "abstained_share": statistics.fmean(figures["abstained"]),
    }


def report(result: dict[str, Any]) -> None:
    print(f"\n{result['chunks']:,} chunks ({result['docs']:,} articles), "
          f"{result['questions']} questions, top_k {result['top_k']}, the reader reads the best "
          f"{result['reader_passages']} passages\n")
    print("| answerer | ask p50 ms | ask p95 ms | ask mean ms | in the answerer p50 / p95 ms "
          "| abstained |")
    print("|---|---|---|---|---|---|")
    for name, f in result["answerers"].items():
        print(f"| {name} | {f['ask_p50_ms']:.0f} | {f['ask_p95_ms']:.0f} | "
              f"{f['ask_mean_ms']:.0f} | {f['answerer_p50_ms']:.0f} / "
              f"{f['answerer_p95_ms']:.0f} | {f['abstained_share']:.2f} |")
    reader, rules = result["answerers"]["reader"], result["answerers"]["rules"]
    print(f"\nreader / rules, ask p50: {reader['ask_p50_ms'] / rules['ask_p50_ms']:.2f}x; "
          f"goal for the reader: p50 <= {GOAL_P50_MS:.0f} ms "
          f"({'met' if reader['ask_p50_ms'] <= GOAL_P50_MS else 'missed'}), "
          f"p95 <= {GOAL_P95_MS:.0f} ms "
          f"({'met' if reader['ask_p95_ms'] <= GOAL_P95_MS else 'missed'})")


def parse_args(argv: Sequence[str] | None = None, description: str | None = None
               ) -> argparse.Namespace:
    """The options of the latency benchmarks on the scale store (this one, filter_latency)."""
    parser = argparse.ArgumentParser(description=description or __doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="store size in chunks")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--cache", type=Path, default=scale_texts.DEFAULT_CACHE)
    parser.add_argument("--reuse", action="store_true", help="open a store built earlier")
    parser.add_argument("--bench-dir", type=Path, default=scale_texts.DEFAULT_BENCH)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, measure_with: Callable[[argparse.Namespace], dict[str, Any]],
        report_with: Callable[[dict[str, Any]], None]) -> int:
    """Measure, print and (with --out) save; a clean exit with a note when the shared bench
    data is missing."""
    missing = [n for n in scale_texts.BENCH_FILES if not (args.bench_dir / n).is_file()]
    if missing:
        print(f"Benchmark data not found in {args.bench_dir} (missing: {', '.join(missing)}); "
              "nothing to measure. Point --bench-dir at the shared bench folder.")
        return 0
    result = measure_with(args)
    result["versions"] = versions(("onnxruntime", "chromadb", "tokenizers", "numpy"))
    report_with(result)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv), lambda args: measure(args, ensure_store(args)), report)


if __name__ == "__main__":
    sys.exit(main())
