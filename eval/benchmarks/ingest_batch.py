"""Batch ingest against one-by-one ingest and a naive pipeline, and the cost of the per-request
check of what other workers wrote.

Run from the repository root::

    python eval/benchmarks/ingest_batch.py --articles DIR [--rounds 3] [--check-sizes 10000 100000]

Ingest throughput: the same articles (the ``.txt`` files of ``--articles``, sorted, the first
``--limit``; without ``--articles``, texts composed from ``../shared/bench``: the SummEval news
articles, then each RGB item's passages as one article, then the SQuAD paragraphs of a title)
go through three pipelines, each into a new embedded Chroma store, with the real embedding model:

* batch: ``Factdesk.ingest_many``, ``--batch`` articles a call (what ``POST /v1/documents/batch``
  and ``factdesk ingest`` do);
* one by one: ``Factdesk.ingest`` per article (``POST /v1/documents``);
* naive: LangChain's ``RecursiveCharacterTextSplitter(1000, 200)`` and one ``collection.add``
  per article to a Chroma collection with Chroma's stock ``DefaultEmbeddingFunction``, given
  the same MiniLM model file factdesk uses (placed under a temporary ``HOME``).

The pipelines take turns, ``--rounds`` times; medians over the rounds, ratios of medians.

Change check: a ``chroma run`` server holding ``--check-sizes`` chunks (synthetic articles of
10 chunks with random vectors: the check reads metadata only), and a desk's view of it
(service/sync.py). Timed: ``follow`` when nothing changed (every question pays it), ``follow``
after another writer changed one article (each of ``--check-writes`` writes in a row, after a
quiet spell), and ``recheck`` (every record, as the background thread does).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from common import jsonl, log, percentile, versions
from scale_probes import ChromaServer

DEFAULT_BENCH = REPO.parent / "shared" / "bench"
NAIVE_CHUNK_CHARS, NAIVE_OVERLAP_CHARS = 1000, 200
CHUNKS_PER_ARTICLE = 10  # of the synthetic store for the change check
Result = dict[str, Any]


# ---------------------------------------------------------------- articles


def folder_articles(folder: Path, limit: int) -> list[tuple[str, str]]:
    files = sorted(folder.glob("*.txt"))[:limit]
    return [(f"news-{path.stem}", path.read_text(encoding="utf-8")) for path in files]


def bench_articles(bench: Path, limit: int) -> list[tuple[str, str]]:
    texts = list(dict.fromkeys(item["article"] for item in jsonl(bench / "summeval-dev.jsonl")))
    texts += ["\n\n".join(dict.fromkeys([*item["positive"], *item["negative"]]))
              for item in jsonl(bench / "rgb-fact-dev.jsonl")]
    by_title: dict[str, dict[str, None]] = {}
    for item in jsonl(bench / "squad2-dev.jsonl"):
        by_title.setdefault(item.get("title") or item["id"], {})[item["context"]] = None
    paragraphs = [c for contexts in by_title.values() for c in contexts]
    for first in range(0, len(paragraphs), 3):  # three paragraphs an article
        texts.append("\n\n".join(paragraphs[first : first + 3]))
    texts = [t for t in texts if t.strip()][:limit]
    return [(f"bench-{n:04d}", text) for n, text in enumerate(texts)]


# ---------------------------------------------------------------- the three pipelines


def run_factdesk(articles: Sequence[tuple[str, str]], folder: Path, batch: int | None) -> Result:
    from service.config import Settings
    from service.desk import Factdesk
    from service.errors import FactdeskError
    from service.ingest import ArticleIn

    desk = Factdesk(Settings(data_dir=folder, seeds_dir=folder / "no-seeds", llm_model=None))
    items = [ArticleIn(text, "text", doc_id) for doc_id, text in articles]
    start = time.perf_counter()
    if batch is None:
        results = [desk.ingest_many([item])[0] for item in items]
    else:
        results = [r for first in range(0, len(items), batch)
                   for r in desk.ingest_many(items[first : first + batch])]
    seconds = time.perf_counter() - start
    failed = [r for r in results if isinstance(r, FactdeskError)]
    if failed:
        raise SystemExit(f"{len(failed)} articles failed: {failed[:3]}")
    chunks = sum(r.chunks for r in results if not isinstance(r, FactdeskError))
    return {"seconds": seconds, "chunks": chunks}


def run_naive(articles: Sequence[tuple[str, str]], folder: Path) -> Result:
    import chromadb
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    client = chromadb.PersistentClient(path=str(folder))
    collection = client.create_collection(
        "naive", embedding_function=DefaultEmbeddingFunction())  # type: ignore[arg-type]
    splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK_CHARS,
                                              chunk_overlap=NAIVE_OVERLAP_CHARS)
    chunks = 0
    start = time.perf_counter()
    for doc_id, text in articles:
        pieces = splitter.split_text(text)
        collection.add(documents=pieces, ids=[f"{doc_id}:{i}" for i in range(len(pieces))])
        chunks += len(pieces)
    return {"seconds": time.perf_counter() - start, "chunks": chunks}


def place_naive_model(home: Path) -> None:
    """Chroma's stock function reads its model from under $HOME: put factdesk's there."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    from service.embed.minilm import place_files_for_chroma_default

    placed = place_files_for_chroma_default(home)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = placed.parent  # fixed at import; make sure it is ours


def measure_ingest(args: argparse.Namespace, work: Path) -> Result:
    if args.articles:
        articles = folder_articles(args.articles, args.limit)
        source = str(args.articles)
    else:
        articles = bench_articles(args.bench_dir, args.limit)
        source = f"composed from {args.bench_dir}"
    chars = sum(len(text) for _, text in articles)
    log(f"{len(articles)} articles, {chars:,} characters ({source})")
    place_naive_model(work / "home")
    warm = articles[:2]  # load each pipeline's model before timing
    run_factdesk(warm, work / "warm-factdesk", 2)
    run_naive(warm, work / "warm-naive")
    pipelines: dict[str, Callable[[Path], Result]] = {
        "batch": lambda folder: run_factdesk(articles, folder, args.batch),
        "one by one": lambda folder: run_factdesk(articles, folder, None),
        "naive": lambda folder: run_naive(articles, folder),
    }
    runs: dict[str, list[Result]] = {name: [] for name in pipelines}
    for round_ in range(args.rounds):
        for name, run in pipelines.items():
            log(f"round {round_ + 1}/{args.rounds}: {name} ...")
            result = run(work / f"{name.replace(' ', '-')}-{round_}")
            result["articles_per_s"] = len(articles) / result["seconds"]
            result["chunks_per_s"] = result["chunks"] / result["seconds"]
            result["chars_per_s"] = chars / result["seconds"]
            log(f"  {result['seconds']:.1f} s, {result['articles_per_s']:.2f} articles/s, "
                f"{result['chunks_per_s']:.1f} chunks/s")
            runs[name].append(result)
    medians = {name: {key: statistics.median(r[key] for r in results)
                      for key in ("seconds", "articles_per_s", "chunks_per_s", "chars_per_s")}
               | {"chunks": results[0]["chunks"]}
               for name, results in runs.items()}
    return {"articles": len(articles), "chars": chars, "source": source, "batch": args.batch,
            "rounds": args.rounds, "runs": runs, "medians": medians}


# ---------------------------------------------------------------- the change check


def synthetic_rows(first: int, count: int, version: str) -> list[Any]:
    import numpy as np

    from service.chunk.chunker import chunk_id
    from service.domain import Article, Chunk

    rng = np.random.default_rng(first)
    rows = []
    for n in range(first, first + count):
        doc_id = f"synthetic-{n:06d}"
        text = " ".join(f"Paragraph {i} of article {n} ({version})." for i in range(10))
        step = len(text) // CHUNKS_PER_ARTICLE
        chunks = [Chunk(id=chunk_id(doc_id, version, i), document_id=doc_id, index=i,
                        start=i * step, end=(i + 1) * step, text=text[i * step : (i + 1) * step])
                  for i in range(CHUNKS_PER_ARTICLE)]
        vectors = rng.standard_normal((CHUNKS_PER_ARTICLE, 384)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        article = Article(id=doc_id, text=text, title=f"Synthetic {n}", content_hash=version * 4,
                          chunk_count=CHUNKS_PER_ARTICLE, format="text")
        rows.append((article, version, chunks, vectors))
    return rows


def timed_ms(fn: Callable[[], object], repeats: int) -> list[float]:
    found = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        found.append((time.perf_counter() - start) * 1000)
    return found


def measure_change_check(args: argparse.Namespace, work: Path) -> Result:
    import service.config
    from service.embed.select import make_embedder, make_embedding_function
    from service.retrieve import LexicalIndex
    from service.store import ChromaStore
    from service.store.chroma_store import make_client
    from service.sync import OVERLAP_S, StoreView

    function = make_embedding_function(make_embedder(service.config.Settings()))
    results: Result = {}
    with ChromaServer(work / "check-chroma", work / "check-chroma.log") as server:
        client = make_client("", server.url)
        for size in sorted(args.check_sizes):
            prefix = f"check{size}"
            store = ChromaStore(client, function, prefix)
            articles = size // CHUNKS_PER_ARTICLE
            log(f"change check: writing {size:,} chunks ({articles:,} articles) ...")
            start = time.perf_counter()
            for first in range(0, articles, 200):
                store.put_articles(synthetic_rows(first, min(200, articles - first), "v0"))
            write_s = time.perf_counter() - start
            view = StoreView(store, LexicalIndex())
            view.recheck()  # the view starts up to date
            assert len(view.catalog) == articles
            # Past the overlap, the build's own change records are no longer read again.
            time.sleep(OVERLAP_S + 1)
            view.follow()
            quiet = timed_ms(view.follow, args.check_repeats)
            writer = ChromaStore(client, function, prefix)
            changed = []
            for n in range(args.check_writes):
                writer.put_articles(synthetic_rows(n * 7 % articles, 1, f"w{n}"))
                changed += timed_ms(view.follow, 1)
                if view.catalog[f"synthetic-{n * 7 % articles:06d}"][0] != f"w{n}":
                    raise SystemExit("follow missed a write")
            full = timed_ms(view.recheck, 3)
            results[str(size)] = {
                "chunks": size, "articles": articles, "write_s": write_s,
                "follow_quiet_ms": {"p50": percentile(quiet, 50), "p95": percentile(quiet, 95),
                                    "n": len(quiet)},
                "follow_one_change_ms": {"p50": percentile(changed, 50),
                                         "p95": percentile(changed, 95), "n": len(changed)},
                "recheck_ms": {"p50": percentile(full, 50), "n": len(full)},
            }
    return results


# ---------------------------------------------------------------- report


def report(summary: Result) -> None:
    ingest = summary.get("ingest")
    if ingest:
        m = ingest["medians"]
        print(f"\nIngest: {ingest['articles']} articles, {ingest['chars']:,} characters "
              f"({ingest['source']}); batch {ingest['batch']}; medians of {ingest['rounds']} "
              "rounds")
        print(f"{'pipeline':12} {'chunks':>7} {'seconds':>8} {'articles/s':>11} "
              f"{'chunks/s':>9} {'chars/s':>9}")
        for name, row in m.items():
            print(f"{name:12} {row['chunks']:>7} {row['seconds']:>8.1f} "
                  f"{row['articles_per_s']:>11.2f} {row['chunks_per_s']:>9.1f} "
                  f"{row['chars_per_s']:>9,.0f}")
        naive, batch, single = m["naive"], m["batch"], m["one by one"]
        print(f"batch / naive: {batch['chunks_per_s'] / naive['chunks_per_s']:.2f}x chunks/s, "
              f"{batch['articles_per_s'] / naive['articles_per_s']:.2f}x articles/s "
              "(goal: at least 1.5x chunks/s)")
        print(f"batch / one by one: {batch['articles_per_s'] / single['articles_per_s']:.2f}x "
              "articles/s")
    check = summary.get("change_check")
    if check:
        print("\nChange check over Chroma's server (ms)")
        print(f"{'chunks':>8} {'quiet p50':>10} {'quiet p95':>10} {'1 change p50':>13} "
              f"{'1 change p95':>13} {'recheck p50':>12}")
        for row in check.values():
            print(f"{row['chunks']:>8,} {row['follow_quiet_ms']['p50']:>10.2f} "
                  f"{row['follow_quiet_ms']['p95']:>10.2f} "
                  f"{row['follow_one_change_ms']['p50']:>13.2f} "
                  f"{row['follow_one_change_ms']['p95']:>13.2f} "
                  f"{row['recheck_ms']['p50']:>12.0f}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, help="a folder of .txt news articles")
    parser.add_argument("--limit", type=int, default=400, help="articles to ingest")
    parser.add_argument("--batch", type=int, default=32, help="articles per batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--check-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--check-repeats", type=int, default=200)
    parser.add_argument("--check-writes", type=int, default=30)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.articles and not (args.bench_dir / "summeval-dev.jsonl").exists():
        print(f"skipped: no --articles folder and no benchmark data in {args.bench_dir}")
        return 0
    with tempfile.TemporaryDirectory(prefix="factdesk-ingest-batch-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work / "home")  # the naive pipeline's model, and only there
        summary: Result = {"versions": versions(["chromadb", "onnxruntime",
                                                 "langchain-text-splitters"])}
        if not args.skip_ingest:
            summary["ingest"] = measure_ingest(args, work)
        if args.check_sizes:
            summary["change_check"] = measure_change_check(args, work)
    report(summary)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
