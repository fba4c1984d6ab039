"""scale.py's build step (one subprocess): a fresh Factdesk ingesting synthetic articles until
the store holds --size chunks."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from common import cpu_seconds, log
from scale_probes import Stopwatch, code_fingerprint, peak_rss_mib, rss_mib
from scale_texts import (
    CHUNK_TOKENS,
    OVERLAP_TOKENS,
    SYNTHESIS,
    Result,
    VectorCache,
    half_chunks,
    make_precomputed_embedder,
    source_texts,
    synthetic_articles,
)

# ---------------------------------------------------------------- build (one subprocess)


def run_build(args: argparse.Namespace) -> Result:
    """A fresh Factdesk on an empty store, ingesting synthetic articles until --size chunks."""
    import service.ingest as ingest_module
    from service.config import Settings
    from service.desk import Factdesk
    from service.embed.minilm import MODEL_ID, MiniLMEmbedder

    code = code_fingerprint()  # the code as imported: others may edit it while this runs
    probe = MiniLMEmbedder()
    halves = half_chunks(source_texts(args.bench_dir), probe.count_tokens_batch)
    cache = VectorCache(args.cache / "vectors", MODEL_ID.replace("/", "_"))
    embedder = make_precomputed_embedder(cache)
    settings = Settings(data_dir=args.data_dir, chroma_url=args.chroma_url,
                        chunk_tokens=CHUNK_TOKENS, chunk_overlap_tokens=OVERLAP_TOKENS)
    desk = Factdesk(settings, embedder=embedder)
    if not desk.is_empty():
        raise SystemExit(f"the store at {args.store} is not empty")
    rss_before = rss_mib()

    watch = Stopwatch()
    watch.patch(ingest_module, "chunk_article", "chunk")
    watch.patch(embedder, "embed", "vectors")
    watch.patch(desk.store, "put_articles", "chroma write")
    watch.patch(desk.store, "article_versions", "chroma read (article record)")
    watch.patch(desk.lexical, "add", "lexical terms")

    chunks = docs = chars = 0
    marks: list[tuple[int, float]] = []
    step = max(args.size // 10, 1)
    next_mark = step
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    for article in synthetic_articles(halves):
        if chunks >= args.size:
            break
        result = desk.ingest(article.text, "text", document_id=article.doc_id,
                             title=article.title, source="factdesk scale benchmark",
                             published=article.published)
        if result.chunks != article.chunks:
            raise SystemExit(f"{article.doc_id}: chunker made {result.chunks} chunks, "
                             f"expected {article.chunks}")
        chunks += result.chunks
        docs += 1
        chars += len(article.text)
        if chunks >= next_mark:
            elapsed = time.perf_counter() - start
            marks.append((chunks, elapsed))
            log(f"  {args.mode} {args.size}: {chunks} chunks, {docs} articles, {elapsed:.0f} s")
            next_mark += step
    ingest_s = time.perf_counter() - start
    ingest_cpu_s = cpu_seconds() - cpu_start
    parts = watch.take()
    # chunks/s over the first and the last tenth: does a write get slower as the store grows?
    first = marks[0][0] / marks[0][1] if marks else chunks / ingest_s
    last = ((marks[-1][0] - marks[-2][0]) / (marks[-1][1] - marks[-2][1])
            if len(marks) >= 2 else first)
    return {
        "docs": docs,
        "chunks": chunks,
        "chars": chars,
        "ingest_s": ingest_s,
        "ingest_cpu_s": ingest_cpu_s,
        "docs_per_s": docs / ingest_s,
        "chunks_per_s": chunks / ingest_s,
        "chunks_per_s_first_tenth": first,
        "chunks_per_s_last_tenth": last,
        "parts_s": parts,
        "vectors_derived": embedder.derived,
        "vectors_embedded_for_real": embedder.embedded_for_real,
        "rss_before_ingest_mib": rss_before,
        "rss_after_ingest_mib": rss_mib(),
        "peak_rss_mib": peak_rss_mib(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code,
        "synthesis": SYNTHESIS,
    }
