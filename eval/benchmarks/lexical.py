"""The lexical index at a given size: factdesk's ``LexicalIndex`` against a bm25s rebuild.

Run from the repository root (bm25s comes with the ``test`` extra)::

    python eval/benchmarks/lexical.py [--sizes 10000 100000] [--writes 12] [--questions 200]

Prints figures; it is not a timed test and passes or fails nothing.

Chunks are the synthetic ones of ``scale.py`` (two half-chunks of the texts in
``../shared/bench/`` per chunk, 3-12 chunks per article), without Chroma or vectors: only the
lexical index is measured. Each size and index runs in a subprocess of its own (this script
with ``--only``), so its peak RSS (``VmHWM``) is its own. In each:

- **build**: the index over every chunk, from terms already stemmed (stemming, the same for
  both, is timed apart);
- **write, then search**: ``--writes`` writes as the desk makes them, in turn a new article
  (``add``), a new version of a stored one (``remove_document`` then ``add``) and a delete
  (``remove_document``), each followed by one search; median and worst. The write includes
  stemming the new chunks;
- **search**: ``--questions`` questions (seed set, SQuAD, RGB) asked for 40 chunks (hybrid
  retrieval's candidates) with no write between them: p50 and p95.

The bm25s side is what ``LexicalIndex`` did before it scored at query time: it kept each
chunk's terms, and the first search after a write re-indexed every chunk with
``bm25s.BM25().index`` and recounted the idf. After the writes both sides answer the questions
and the parent checks that they return the same chunks and scores.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale

CANDIDATES = 40  # what hybrid retrieval asks the lexical index for


class Bm25sRebuild:
    """The lexical index as it was: terms per chunk, and a bm25s index rebuilt from all of
    them at the first search after a write."""

    def __init__(self) -> None:
        self.terms: dict[str, list[str]] = {}
        self.dirty = True
        self.ids: list[str] = []
        self.retriever: Any = None
        self.idf: dict[str, float] = {}

    def replace_terms(self, terms: dict[str, list[str]]) -> None:
        self.terms, self.dirty = dict(terms), True
        self.current()

    def add(self, chunks: Iterable[tuple[str, str]]) -> None:
        from service.retrieve.lexical import lexical_terms

        self.terms.update((cid, lexical_terms(text)) for cid, text in chunks)
        self.dirty = True

    def remove_document(self, document_id: str) -> None:
        prefix = f"{document_id}:"
        for cid in [c for c in self.terms if c.startswith(prefix)]:
            del self.terms[cid]
        self.dirty = True

    def current(self) -> None:
        import bm25s

        if self.dirty:
            self.ids = list(self.terms)
            df = Counter(term for cid in self.ids for term in set(self.terms[cid]))
            self.idf = {t: math.log(1 + (len(self.ids) - n + 0.5) / (n + 0.5))
                        for t, n in df.items()}
            self.retriever = bm25s.BM25()
            self.retriever.index([self.terms[cid] or ["\u2205"] for cid in self.ids],
                                 show_progress=False)
            self.dirty = False

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        import numpy as np

        from service.retrieve.lexical import lexical_terms

        terms = lexical_terms(query)
        self.current()
        if not terms:
            return []
        scores = self.retriever.get_scores(terms)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def corpus(bench: Path, size: int, writes: int) -> tuple[list[tuple[str, str]],
                                                          list[tuple[str, list[tuple[str, str]]]]]:
    """``size`` chunks, and the writes: (document id, its new chunks; none for a delete)."""
    from service.embed.minilm import MiniLMEmbedder

    halves = scale.half_chunks(scale.source_texts(bench), MiniLMEmbedder().count_tokens_batch)
    articles = scale.synthetic_articles(halves)
    chunks: list[tuple[str, str]] = []
    stored: list[str] = []
    while len(chunks) < size:
        article = next(articles)
        stored.append(article.doc_id)
        chunks += [(f"{article.doc_id}:v1:{i}", text)
                   for i, text in enumerate(article.text.split("\n\n"))]
    planned: list[tuple[str, list[tuple[str, str]]]] = []
    for n in range(writes):
        kind = n % 3
        document = next(articles).doc_id if kind == 0 else stored[(n * 7919) % len(stored)]
        if kind == 2:
            planned.append((document, []))
            continue
        texts = next(articles).text.split("\n\n")
        planned.append((document, [(f"{document}:v2:{i}", t) for i, t in enumerate(texts)]))
    return chunks, planned


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    from service.retrieve.lexical import LexicalIndex, lexical_terms

    chunks, planned = corpus(args.bench_dir, args.only_size, args.writes)
    questions = scale.questions(args.bench_dir, args.questions)
    start = time.perf_counter()
    terms = {cid: lexical_terms(text) for cid, text in chunks}
    stem_s = time.perf_counter() - start
    rss_before = scale.rss_mib()

    index: Any = LexicalIndex() if args.only == "lexical" else Bm25sRebuild()
    start = time.perf_counter()
    index.replace_terms(terms)
    build_s = time.perf_counter() - start
    del terms
    index.search(questions[0], CANDIDATES)
    rss_built = scale.rss_mib()

    search_s = []
    for question in questions:
        start = time.perf_counter()
        index.search(question, CANDIDATES)
        search_s.append(time.perf_counter() - start)

    write_s = []
    for n, (document, new) in enumerate(planned):
        start = time.perf_counter()
        index.remove_document(document)
        if new:
            index.add(new)
        index.search(questions[n % len(questions)], CANDIDATES)
        write_s.append(time.perf_counter() - start)

    answers = {q: index.search(q, 10) for q in questions[:50]}
    return {
        "chunks": len(chunks), "stem_s": stem_s, "build_s": build_s,
        "write_then_search_s": write_s, "search_s": search_s,
        "rss_before_index_mib": rss_before, "rss_built_mib": rss_built,
        "peak_rss_mib": scale.peak_rss_mib(), "answers": answers,
    }


def differing(a: dict[str, list[list[Any]]], b: dict[str, list[list[Any]]]) -> int:
    """Questions whose top 10 differ: in a score, or in a chunk scored above the last (the
    last score's ties may be cut differently)."""

    def above_last(found: list[list[Any]]) -> set[str]:
        return {cid for cid, score in found if score > found[-1][1]}

    def same(found: list[list[Any]], other: list[list[Any]]) -> bool:
        return (len(found) == len(other)
                and all(math.isclose(x[1], y[1], rel_tol=1e-6) for x, y in zip(found, other))
                and (not found or above_last(found) == above_last(other)))

    return sum(not same(found, b[question]) for question, found in a.items())


def ms(values: Sequence[float], p: float) -> str:
    return f"{scale.percentile(values, p) * 1000:,.1f}"


def report(size: int, runs: dict[str, dict[str, Any]]) -> None:
    new, old = runs["lexical"], runs["bm25s"]
    print(f"\n{new['chunks']:,} chunks (stemming them: {new['stem_s']:.1f} s, not counted)")
    print("| measure | LexicalIndex | bm25s rebuild |\n| --- | --- | --- |")
    rows = [
        ("build s", f"{new['build_s']:.2f}", f"{old['build_s']:.2f}"),
        ("write then search ms, median", ms(new["write_then_search_s"], 50),
         ms(old["write_then_search_s"], 50)),
        ("write then search ms, worst", ms(new["write_then_search_s"], 100),
         ms(old["write_then_search_s"], 100)),
        ("search ms, p50", ms(new["search_s"], 50), ms(old["search_s"], 50)),
        ("search ms, p95", ms(new["search_s"], 95), ms(old["search_s"], 95)),
        ("RSS before the index MiB", f"{new['rss_before_index_mib']:,.0f}",
         f"{old['rss_before_index_mib']:,.0f}"),
        ("RSS with the index MiB", f"{new['rss_built_mib']:,.0f}",
         f"{old['rss_built_mib']:,.0f}"),
        ("peak RSS MiB", f"{new['peak_rss_mib']:,.0f}", f"{old['peak_rss_mib']:,.0f}"),
    ]
    for row in rows:
        print("| " + " | ".join(row) + " |")
    differ = differing(new["answers"], old["answers"])
    print(f"top 10 after {len(new['write_then_search_s'])} writes: {differ} of "
          f"{len(new['answers'])} questions differ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--writes", type=int, default=12)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--bench-dir", type=Path, default=scale.DEFAULT_BENCH)
    parser.add_argument("--only", choices=["lexical", "bm25s"], help=argparse.SUPPRESS)
    parser.add_argument("--only-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not all((args.bench_dir / name).exists() for name in scale.BENCH_FILES):
        print(f"no benchmark texts in {args.bench_dir}; nothing measured")
        return 0
    if args.only:
        print(json.dumps(run_one(args)))
        return 0
    for size in args.sizes:
        runs = {}
        for kind in ("lexical", "bm25s"):
            scale.log(f"{kind} at {size:,} chunks ...")
            done = subprocess.run(
                [sys.executable, __file__, "--only", kind, "--only-size", str(size),
                 "--writes", str(args.writes), "--questions", str(args.questions),
                 "--bench-dir", str(args.bench_dir)],
                check=True, stdout=subprocess.PIPE, text=True)
            runs[kind] = json.loads(done.stdout)
        report(size, runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
