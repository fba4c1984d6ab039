"""scale.py's measurement step (one subprocess): open a built store, time start-up, asks by
part, a write and a delete, and record memory."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from common import cpu_seconds, log, percentile
from scale_probes import Stopwatch, code_fingerprint, peak_rss_mib, rss_mib
from scale_texts import CHUNK_TOKENS, OVERLAP_TOKENS, TOP_K, Result, questions

IDLE_ASKS = 10  # more asks, with the server, each with its check of the change records timed


# ---------------------------------------------------------------- open and ask (one subprocess)


def construct_parts_to_time(desk_module: Any) -> list[tuple[Any, str, str]]:
    """(owner, attribute, label) of what opening a store may call; the desk's code changes,
    so each is timed only when present."""
    import service.sync as sync_module
    from service.retrieve.lexical import LexicalIndex
    from service.store.chroma_store import ChromaStore

    parts: list[tuple[Any, str, str]] = [
        (desk_module, "make_client", "chroma client"),
        (desk_module, "make_embedder", "embedder (tokenizers)"),
        (ChromaStore, "__init__", "chroma collections"),
        (ChromaStore, "list_articles", "catalog (article records)"),
        (ChromaStore, "iter_chunks", "read chunk texts from chroma"),
        (ChromaStore, "get_chunks", "read chunk texts from chroma"),
        (sync_module, "lexical_terms", "lexical terms (stemming)"),
        (LexicalIndex, "replace_all", "lexical terms (stemming)"),
        (LexicalIndex, "replace_terms", "lexical index (copy terms)"),
        (LexicalIndex, "restore", "lexical index (copy terms)"),
        (LexicalIndex, "_current", "bm25 index build"),
    ]
    try:
        from service.retrieve.term_cache import TermCache
    except ImportError:
        return parts
    return [*parts, (TermCache, "load", "lexical cache load"),
            (TermCache, "save", "lexical cache save")]


def run_serve(args: argparse.Namespace) -> Result:
    """A fresh process: open the built store, ask, write once and ask again."""
    start = time.perf_counter()
    import service.ask as ask_module
    import service.desk as desk_module
    from service.config import Settings
    from service.desk import Factdesk
    from service.domain import AnswerMode
    from service.retrieve.lexical import LexicalIndex

    import_s = time.perf_counter() - start
    code = code_fingerprint()  # the code as imported: others may edit it while this runs
    settings = Settings(data_dir=args.data_dir, chroma_url=args.chroma_url,
                        chunk_tokens=CHUNK_TOKENS, chunk_overlap_tokens=OVERLAP_TOKENS)

    # Start-up, by part. Whatever of these the desk uses is timed (exclusive of the others).
    watch = Stopwatch()
    originals: dict[tuple[Any, str], Any] = {}
    for owner, name, label in construct_parts_to_time(desk_module):
        if hasattr(owner, name):
            originals[(owner, name)] = getattr(owner, name)
            fn = getattr(owner, name)
            setattr(owner, name, watch.wrap_iter(label, fn) if name == "iter_chunks"
                    else watch.wrap(label, fn))
    start = time.perf_counter()
    desk = Factdesk(settings)
    construct_s = time.perf_counter() - start
    for (owner, name), fn in originals.items():
        setattr(owner, name, fn)
    construct_parts = watch.take()
    construct_parts["other"] = construct_s - sum(construct_parts.values())
    rss_after_construct = rss_mib()
    peaks = {"construct": peak_rss_mib()}
    n_docs, n_chunks = desk.counts()

    # Every ask, by part.
    lexical = desk.lexical
    rebuild = watch.wrap("bm25 index build", lexical._current)

    def current() -> Any:
        return rebuild() if lexical._dirty else LexicalIndex._current(lexical)

    lexical._current = current  # type: ignore[method-assign]
    watch.patch(desk.retriever, "embed_query", "embed question")
    watch.patch(desk.store, "query", "chroma query (HNSW)")
    watch.patch(desk.store, "get_chunks", "chroma get chunks")
    watch.patch(desk.store, "get_articles", "chroma get article texts")
    watch.patch(lexical, "search", "bm25 search")
    watch.patch(lexical, "coverage", "coverage")
    watch.patch(ask_module, "answer_offline", "offline answerer")
    # Catching up with other writers before each ask: the shared retrieval holds the desk's
    # sync.
    sync_owner = getattr(desk, "retrieval", desk)
    if hasattr(sync_owner, "sync"):
        watch.patch(sync_owner, "sync", "sync with the store")

    # Only a desk on Chroma's server syncs with other writers before a read.
    idle = IDLE_ASKS if args.chroma_url and hasattr(desk, "sync") else 0
    pool = questions(args.bench_dir, args.questions + 3 + idle)
    first_question, write_questions = pool[0], pool[1:3]
    timed, after_idle = pool[3 : 3 + args.questions], pool[3 + args.questions :]

    cpu_per_ask: list[float] = []

    def ask(question: str) -> tuple[float, dict[str, float], Any]:
        cpu = time.process_time()  # all threads of this process: less sensitive to other load
        start = time.perf_counter()
        answer = desk.ask(question, TOP_K, mode=AnswerMode.OFFLINE)
        took = time.perf_counter() - start
        cpu_per_ask.append(time.process_time() - cpu)
        taken = watch.take()
        taken["other (ask glue)"] = took - sum(taken.values())
        return took, taken, answer

    log(f"  {args.label}: first ask ...")
    first_ask_s, first_ask_parts, _ = ask(first_question)
    rss_after_first_ask = rss_mib()
    peaks["first ask"] = peak_rss_mib()
    if args.only == "startup":
        return {
            "docs": n_docs, "chunks": n_chunks, "import_s": import_s,
            "construct_s": construct_s, "construct_parts_s": construct_parts,
            "first_ask_s": first_ask_s, "first_ask_parts_s": first_ask_parts,
            "rss_after_construct_mib": rss_after_construct,
            "rss_after_first_ask_mib": rss_after_first_ask, "peak_rss_mib": peak_rss_mib(),
            "code": code,
        }

    log(f"  {args.label}: {len(timed)} asks ...")
    seconds: list[float] = []
    per_ask: list[dict[str, float]] = []
    distinct_passages: list[int] = []
    abstained = 0
    cpu_start = cpu_seconds()
    wall_start = time.perf_counter()
    cpu_per_ask.clear()
    for question in timed:
        took, taken, answer = ask(question)
        seconds.append(took)
        per_ask.append(taken)
        distinct_passages.append(len({p.chunk.text for p in answer.passages}))
        abstained += answer.abstained
    ask_cpu_ratio = (cpu_seconds() - cpu_start) / (time.perf_counter() - wall_start)
    peaks["timed asks"] = peak_rss_mib()
    timed_cpu = list(cpu_per_ask)
    labels = sorted({label for taken in per_ask for label in taken} - {"bm25 index build"})
    parts = {label: [taken.get(label, 0.0) for taken in per_ask] for label in labels}

    # With the server, every ask first reads the store's change records: time more asks.
    idle_seconds: list[float] = []
    idle_sync: list[float] = []
    if after_idle:
        log(f"  {args.label}: {len(after_idle)} asks, each with its change check timed ...")
    for question in after_idle:
        took, taken, _ = ask(question)
        idle_seconds.append(took)
        idle_sync.append(taken.get("sync with the store", 0.0))
    # A background thread re-reads every article record now and then (a writer may die between
    # its commit and its change record): time one such re-read, off the request path.
    full_sync: dict[str, float] = {}
    if after_idle and hasattr(desk, "view"):
        start = time.perf_counter()
        desk.view.recheck()
        full_sync = {"recheck_s": time.perf_counter() - start}

    # A write makes the next ask rebuild the BM25 index over every chunk.
    log(f"  {args.label}: one ingest, ask; one delete, ask ...")
    probe = ("The harbour authority said on Tuesday that the new quay would open in June, "
             "two years later than planned, after a dispute over dredging costs.")
    start = time.perf_counter()
    desk.ingest(probe, "text", document_id="scale-write-probe", title="Write probe")
    write_s = time.perf_counter() - start
    after_ingest_s, after_ingest_parts, _ = ask(write_questions[0])
    desk.delete("scale-write-probe")
    after_delete_s, after_delete_parts, _ = ask(write_questions[1])

    peaks["write, ask, delete, ask"] = peak_rss_mib()
    peak = peak_rss_mib()
    memory = index_memory(desk)
    ask_parts = {
        label: {"p50_ms": percentile(v, 50) * 1000, "p95_ms": percentile(v, 95) * 1000,
                "mean_ms": statistics.fmean(v) * 1000}
        for label, v in parts.items()
    }
    return {
        "docs": n_docs,
        "chunks": n_chunks,
        "import_s": import_s,
        "construct_s": construct_s,
        "construct_parts_s": construct_parts,
        "first_ask_s": first_ask_s,
        "first_ask_parts_s": first_ask_parts,
        "ask": {
            "n": len(seconds),
            "p50_ms": percentile(seconds, 50) * 1000,
            "p95_ms": percentile(seconds, 95) * 1000,
            "mean_ms": statistics.fmean(seconds) * 1000,
            "max_ms": max(seconds) * 1000,
            "cpu_per_wall": ask_cpu_ratio,
            "cpu_p50_ms": percentile(timed_cpu, 50) * 1000,
            "cpu_p95_ms": percentile(timed_cpu, 95) * 1000,
            "abstained": abstained,
            "distinct_passage_texts_mean": statistics.fmean(distinct_passages),
        },
        "ask_parts": ask_parts,
        "ask_with_full_sync": full_sync,
        "ask_after_idle": {
            "n": len(idle_seconds),
            "p50_ms": percentile(idle_seconds, 50) * 1000 if idle_seconds else None,
            "p95_ms": percentile(idle_seconds, 95) * 1000 if idle_seconds else None,
            "sync_p50_ms": percentile(idle_sync, 50) * 1000 if idle_sync else None,
            "sync_max_ms": max(idle_sync) * 1000 if idle_sync else None,
        },
        "code": code,
        "write_probe_ingest_s": write_s,
        "ask_after_ingest_s": after_ingest_s,
        "ask_after_ingest_parts_s": after_ingest_parts,
        "ask_after_delete_s": after_delete_s,
        "ask_after_delete_parts_s": after_delete_parts,
        "rss_after_construct_mib": rss_after_construct,
        "rss_after_first_ask_mib": rss_after_first_ask,
        "peak_rss_mib": peak,
        "peak_rss_after_mib": peaks,
        "index_memory_mib": memory,
    }


def index_memory(desk: Any) -> dict[str, float]:
    """Rough sizes of factdesk's in-memory lexical structures and catalog. Term strings are
    counted once per distinct value (the stemmer hands out shared strings), lists and dicts
    at their own size."""
    lexical = desk.lexical
    mib = 1024 * 1024
    found: dict[str, float] = {}
    terms = getattr(lexical, "_terms", None)
    if isinstance(terms, dict):
        distinct: set[str] = set()
        size = sys.getsizeof(terms)
        for chunk_id, held in terms.items():
            size += sys.getsizeof(held) + sys.getsizeof(chunk_id)
            distinct.update(held)
        found["lexical term lists"] = (size + sum(map(sys.getsizeof, distinct))) / mib
    retriever = getattr(lexical, "_retriever", None)
    if retriever is not None:
        arrays = [v for v in getattr(retriever, "scores", {}).values() if hasattr(v, "nbytes")]
        found["bm25s score matrix"] = sum(a.nbytes for a in arrays) / mib
    catalog = desk.view.catalog
    found["catalog"] = (sys.getsizeof(catalog) + sum(
        sys.getsizeof(k) + sys.getsizeof(v) + sum(sys.getsizeof(x) for x in v)
        for k, v in catalog.items())) / mib
    return found
