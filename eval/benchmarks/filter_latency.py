"""Ask latency with date and source filters against the same asks unfiltered, on one store, in
one process, one run.

Run from the repository root::

    python eval/benchmarks/filter_latency.py [--size 10000] [--questions 100] [--reuse]

The store is the one ``scale.py`` builds (its synthetic articles are dated evenly over 2024 and
2025; ``--reuse`` opens one built earlier by this script, ``scale.py`` or
``answerer_latency.py``). Each question is asked in offline mode with ``top_k`` 8 once per
filter below, the filters in a rotating order so that none always meets a warm
question-embedding cache. The filters are pushed into Chroma's ``where`` and the lexical
index before ranking, so the cost measured is the whole filtered search. It prints figures
and passes or fails nothing; the goal (p50 with a date filter within 1.2x of unfiltered) is
printed beside them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import scale_texts
from answerer_latency import ensure_store, parse_args, run
from common import log, percentile

GOAL_RATIO = 1.2
# name: the filter's fields (service.scope.Scope.of)
FILTERS: dict[str, dict[str, Any]] = {
    "unfiltered": {},
    "published_after (a year of two)": {"published_after": "2025-01-01"},
    "a month": {"published_after": "2024-06-01", "published_before": "2024-06-30"},
    "as_of (a quarter of two years)": {"as_of": "2024-06-30"},
    "sources": {"sources": ["factdesk scale benchmark"]},
}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from service.config import Settings
    from service.desk import Factdesk
    from service.domain import AnswerMode
    from service.scope import Scope, admitted

    store = ensure_store(args)
    settings = Settings(data_dir=store, chunk_tokens=scale_texts.CHUNK_TOKENS,
                        chunk_overlap_tokens=scale_texts.OVERLAP_TOKENS)
    desk = Factdesk(settings)
    scopes = {name: Scope.of(None, **fields) for name, fields in FILTERS.items()}
    catalog = desk.view.catalog
    admitted_ids = {name: admitted(scope, catalog) for name, scope in scopes.items()}
    counts = {name: len(catalog) if ids is None else len(ids)
              for name, ids in admitted_ids.items()}
    pool = scale_texts.questions(args.bench_dir, args.questions + 1)
    for scope in scopes.values():  # warm-up: model sessions load, caches fill
        desk.ask(pool[0], scale_texts.TOP_K, mode=AnswerMode.OFFLINE, scope=scope)
    names = list(scopes)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i, question in enumerate(pool[1:]):
        for name in names[i % len(names):] + names[: i % len(names)]:
            start = time.perf_counter()
            desk.ask(question, scale_texts.TOP_K, mode=AnswerMode.OFFLINE, scope=scopes[name])
            times[name].append(time.perf_counter() - start)
        if (i + 1) % 20 == 0:
            log(f"  {i + 1}/{len(pool) - 1} questions")
    n_docs, n_chunks = desk.counts()
    return {
        "chunks": n_chunks, "docs": n_docs, "questions": len(pool) - 1,
        "top_k": scale_texts.TOP_K,
        "filters": {name: {"fields": FILTERS[name], "articles_admitted": counts[name],
                           "ask_p50_ms": percentile(t, 50) * 1000,
                           "ask_p95_ms": percentile(t, 95) * 1000}
                    for name, t in times.items()},
    }


def report(result: dict[str, Any]) -> None:
    print(f"\n{result['chunks']:,} chunks ({result['docs']:,} articles), "
          f"{result['questions']} questions, top_k {result['top_k']}, offline\n")
    print("| filter | articles admitted | ask p50 ms | ask p95 ms | p50 / unfiltered |")
    print("|---|---|---|---|---|")
    base = result["filters"]["unfiltered"]["ask_p50_ms"]
    worst = 0.0
    for name, f in result["filters"].items():
        ratio = f["ask_p50_ms"] / base
        if name != "unfiltered" and "sources" not in name:
            worst = max(worst, ratio)
        print(f"| {name} | {f['articles_admitted']:,} | {f['ask_p50_ms']:.0f} | "
              f"{f['ask_p95_ms']:.0f} | {ratio:.2f}x |")
    print(f"\nworst date filter p50 / unfiltered: {worst:.2f}x; goal <= {GOAL_RATIO}x "
          f"({'met' if worst <= GOAL_RATIO else 'missed'})")


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_args(argv, __doc__.split("\n\n")[0]), measure, report)


if __name__ == "__main__":
    sys.exit(main())
