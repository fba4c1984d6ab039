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
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from common import cpu_seconds, jsonl, log, number, percentile, versions

DEFAULT_BENCH = REPO.parent / "shared" / "bench"
DEFAULT_CACHE = Path("/tmp/factdesk-scale")
BENCH_FILES = ("summeval-dev.jsonl", "squad2-dev.jsonl", "rgb-fact-dev.jsonl")
CHUNK_TOKENS = 160
OVERLAP_TOKENS = 32
# Two halves of 41-79 tokens make a chunk of 82-158: two chunks never fit in one of 160, and
# no chunk is long enough for the chunker to cut.
HALF_MIN_TOKENS = 41
HALF_MAX_TOKENS = 79
CHUNKS_PER_ARTICLE = (3, 12)
TOP_K = 8
# Bumped when the synthesis changes, so --reuse never opens a store built another way.
SYNTHESIS = "halves-v2"

IDLE_ASKS = 10  # asks timed each after an idle pause, when the desk syncs with the store
GOAL_ASK_P95_MS = 250.0
GOAL_STARTUP_S = 10.0
GOAL_SIZE = 100_000

Result = dict[str, Any]


# ---------------------------------------------------------------- texts


def source_texts(bench: Path) -> list[str]:
    texts = [item["article"] for item in jsonl(bench / "summeval-dev.jsonl")]
    texts += dict.fromkeys(item["context"] for item in jsonl(bench / "squad2-dev.jsonl"))
    texts += dict.fromkeys(
        passage
        for item in jsonl(bench / "rgb-fact-dev.jsonl")
        for key in ("positive", "negative")
        for passage in item[key]
    )
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    return [t for t in texts if t.strip()]


def half_chunks(texts: Sequence[str], count_tokens_batch: Callable[[list[str]], list[int]]
                ) -> list[str]:
    """Every run of consecutive sentences within one paragraph of 41-79 tokens, no line break
    inside, sorted (a fixed order for the random draws)."""
    from service.sentences import sentence_spans

    found: set[str] = set()
    for text in texts:
        for paragraph in text.split("\n\n"):
            spans = sentence_spans(paragraph)
            tokens = count_tokens_batch([paragraph[a:b] for a, b in spans])
            for i in range(len(spans)):
                total = 0
                for j in range(i, len(spans)):
                    total += tokens[j]
                    if total > HALF_MAX_TOKENS:
                        break
                    piece = paragraph[spans[i][0] : spans[j][1]]
                    if total >= HALF_MIN_TOKENS and "\n" not in piece:
                        found.add(piece)
    return sorted(found)


@dataclass(frozen=True)
class SyntheticArticle:
    doc_id: str
    title: str
    text: str
    chunks: int


def synthetic_articles(halves: Sequence[str], seed: int = 0) -> Iterator[SyntheticArticle]:
    """Endless articles, the same sequence for every size (a smaller store is a prefix of a
    larger one). No pair of halves is used twice, so every chunk text is distinct. A draw whose
    text the parser would change (a line taken for a photo caption or a byline in what looks
    like a page header) is drawn again, so the stored text is exactly the chunks."""
    from service.parse import parse_article

    rng = random.Random(seed)
    used: set[int] = set()
    n = len(halves)
    number = 0
    while True:
        pieces = []
        for _ in range(rng.randint(*CHUNKS_PER_ARTICLE)):
            while True:
                a, b = rng.randrange(n), rng.randrange(n)
                if a != b and a * n + b not in used:
                    used.add(a * n + b)
                    break
            pieces.append(f"{halves[a]}\n{halves[b]}")
        text = "\n\n".join(pieces)
        if parse_article(text, "text").text != text:
            continue
        yield SyntheticArticle(f"scale-{number:06d}", f"Scale article {number}", text,
                               len(pieces))
        number += 1


def questions(bench: Path, count: int) -> list[str]:
    """Distinct questions, in turn from the seed set, SQuAD, the seed set, SQuAD and RGB."""
    import yaml

    seed_file = REPO / "eval" / "datasets" / "seed.yaml"
    seed = [q["question"] for q in yaml.safe_load(seed_file.read_text(encoding="utf-8"))
            ["questions"]]
    squad = [q["question"] for q in jsonl(bench / "squad2-dev.jsonl")]
    rgb = [q["question"] for q in jsonl(bench / "rgb-fact-dev.jsonl")]
    seed_it, squad_it, rgb_it = iter(seed), iter(squad), iter(rgb)
    picked: dict[str, None] = {}
    while len(picked) < count:
        before = len(picked)
        for source in (seed_it, squad_it, seed_it, squad_it, rgb_it):
            question = next(source, "").strip()
            if question and len(picked) < count:
                picked[question] = None
        if len(picked) == before:
            raise SystemExit(f"only {before} distinct questions available; asked for {count}")
    return list(picked)


# ---------------------------------------------------------------- vectors


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """MiniLM vectors of texts, by SHA-256 of the text, in one .npy matrix and a key list."""

    def __init__(self, folder: Path, model: str) -> None:
        import numpy as np

        self.folder = folder
        self.stem = folder / f"vectors-{model}"
        self.vectors: dict[str, Any] = {}
        keys_path, matrix_path = self.stem.with_suffix(".keys"), self.stem.with_suffix(".npy")
        if keys_path.is_file() and matrix_path.is_file():
            keys = keys_path.read_text().split()
            matrix = np.load(matrix_path)
            self.vectors = dict(zip(keys, matrix))

    def get(self, text: str) -> Any:
        return self.vectors.get(text_key(text))

    def add(self, texts: Sequence[str], matrix: Any) -> None:
        for text, vector in zip(texts, matrix):
            self.vectors[text_key(text)] = vector

    def save(self) -> None:
        import numpy as np

        self.folder.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        np.save(self.stem.with_suffix(".npy"), np.stack([self.vectors[k] for k in keys]))
        self.stem.with_suffix(".keys").write_text("\n".join(keys) + "\n")


def derived_vector(cache: VectorCache, text: str) -> Any:
    """The re-normalised mean of the cached vectors of the chunk's two halves, or None."""
    import numpy as np

    halves = text.split("\n")
    if len(halves) != 2:
        return None
    a, b = cache.get(halves[0]), cache.get(halves[1])
    if a is None or b is None:
        return None
    mean = a + b
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def make_precomputed_embedder(cache: VectorCache) -> Any:
    """A MiniLM embedder that answers chunk texts from cached vectors (derived as above) and
    embeds for real, counting them, only the texts it cannot derive."""
    import numpy as np

    from service.embed.minilm import MiniLMEmbedder

    class PrecomputedEmbedder(MiniLMEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.derived = 0
            self.embedded_for_real = 0

        def embed(self, texts: Sequence[str]) -> Any:
            result = np.zeros((len(texts), 384), dtype=np.float32)
            missing = []
            for i, text in enumerate(texts):
                vector = derived_vector(cache, text)
                if vector is None:
                    vector = cache.get(text)
                if vector is None:
                    missing.append(i)
                else:
                    result[i] = vector
            self.derived += len(texts) - len(missing)
            if missing:
                self.embedded_for_real += len(missing)
                result[missing] = super().embed([texts[i] for i in missing])
            return result

    return PrecomputedEmbedder()


def prepare_vectors(args: argparse.Namespace) -> Result:
    """Embed the half-chunks not yet cached, and measure the real embedding of whole chunks
    (throughput, and how close the derived vectors are) on a sample."""
    import numpy as np

    from service.embed.minilm import MODEL_ID, MiniLMEmbedder

    embedder = MiniLMEmbedder()
    halves = half_chunks(source_texts(args.bench_dir), embedder.count_tokens_batch)
    cache = VectorCache(args.cache / "vectors", MODEL_ID.replace("/", "_"))
    missing = [h for h in halves if cache.get(h) is None]
    embed_s = 0.0
    if missing:
        log(f"embedding {len(missing)} half-chunks not yet cached (once) ...")
        start = time.perf_counter()
        for begin in range(0, len(missing), 256):
            part = missing[begin : begin + 256]
            cache.add(part, embedder.embed(part))
            log(f"  {begin + len(part)}/{len(missing)}")
        embed_s = time.perf_counter() - start
        cache.save()

    # The sample: the first chunks of the first synthetic articles, as stored.
    sample: list[str] = []
    for article in synthetic_articles(halves):
        sample += article.text.split("\n\n")
        if len(sample) >= args.embed_sample:
            break
    sample = sample[: args.embed_sample]
    tokens = embedder.count_tokens_batch(sample)
    embedder.embed(sample[:8])  # warm-up: session load
    log(f"measuring real embedding throughput on {len(sample)} chunks ...")
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    real = embedder.embed(sample)
    sample_s = time.perf_counter() - start
    derived = np.stack([derived_vector(cache, text) for text in sample])
    cosines = (real * derived).sum(axis=1)
    return {
        "source_texts": len(source_texts(args.bench_dir)),
        "half_chunks": len(halves),
        "half_chunks_embedded_now": len(missing),
        "half_chunks_embed_s": embed_s,
        "cache": str(cache.stem) + ".{npy,keys}",
        "sample_chunks": len(sample),
        "sample_mean_tokens": statistics.fmean(tokens),
        "embed_chunks_per_s": len(sample) / sample_s,
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "derived_vs_real_cosine": {
            "median": float(np.median(cosines)),
            "p5": float(np.percentile(cosines, 5)),
            "min": float(cosines.min()),
        },
    }


# ---------------------------------------------------------------- measuring helpers


def proc_status_kib(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_mib(pid: int | str = "self") -> float:
    return proc_status_kib("VmHWM", pid) / 1024


def rss_mib(pid: int | str = "self") -> float:
    return proc_status_kib("VmRSS", pid) / 1024


def store_bytes(folder: Path, skip: Path | None = None) -> dict[str, int]:
    """Bytes on disk (allocated blocks): all, the SQLite file, and the rest (Chroma's vector
    segments), leaving out ``skip`` (factdesk's own lexical cache, counted apart)."""
    total = sqlite = 0
    for path in folder.rglob("*"):
        if not path.is_file() or (skip is not None and path.is_relative_to(skip)):
            continue
        size = path.stat().st_blocks * 512
        total += size
        if path.name.startswith("chroma.sqlite3"):
            sqlite += size
    return {"total": total, "sqlite": sqlite, "vector_segments": total - sqlite}


def lexical_cache_folder(data_dir: Path) -> Path | None:
    """Where the desk keeps its lexical index between starts, when it does."""
    try:
        from service.retrieve.term_cache import FOLDER
    except ImportError:
        return None
    return data_dir / FOLDER


class Stopwatch:
    """Seconds spent in wrapped callables, by label, each exclusive of the wrapped callables
    it calls (a BM25 build inside a search counts once, as the build)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self._children: list[float] = []  # time in nested timers, per active timer

    def _enter(self) -> float:
        self._children.append(0.0)
        return time.perf_counter()

    def _exit(self, label: str, start: float) -> None:
        elapsed = time.perf_counter() - start
        self.current[label] += elapsed - self._children.pop()
        if self._children:
            self._children[-1] += elapsed

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = self._enter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(label, start)

        return timed

    def patch(self, owner: Any, name: str, label: str) -> None:
        """Replace ``owner.name`` (an instance's method or a module's function) by a timed one."""
        setattr(owner, name, self.wrap(label, getattr(owner, name)))

    def wrap_iter(self, label: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
        """Time spent producing the items of a generator (not in the consumer)."""

        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = fn(*args, **kwargs)
            while True:
                start = self._enter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self._exit(label, start)
                yield item

        return timed

    def take(self) -> dict[str, float]:
        taken = dict(self.current)
        self.current = defaultdict(float)
        return taken


def code_fingerprint() -> dict[str, str]:
    """Which service code was measured: the commit and a hash of service/ as it is on disk
    (uncommitted edits included)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "service").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "service"], cwd=REPO,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "unknown", ""
    return {"commit": head, "service_sha256": digest.hexdigest()[:16],
            "service_uncommitted_changes": "yes" if dirty else "no"}


# ---------------------------------------------------------------- build (one subprocess)


def run_build(args: argparse.Namespace) -> Result:
    """A fresh Factdesk on an empty store, ingesting synthetic articles until --size chunks."""
    import service.desk as desk_module
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
    watch.patch(desk_module, "chunk_article", "chunk")
    watch.patch(embedder, "embed", "vectors")
    watch.patch(desk.store, "put_article", "chroma write")
    watch.patch(desk.store, "get_article", "chroma read (article record)")
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
                             title=article.title, source="factdesk scale benchmark")
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


# ---------------------------------------------------------------- open and ask (one subprocess)


def construct_parts_to_time(desk_module: Any) -> list[tuple[Any, str, str]]:
    """(owner, attribute, label) of what opening a store may call; the desk's code changes,
    so each is timed only when present."""
    from service.retrieve.lexical import LexicalIndex
    from service.store.chroma_store import ChromaStore

    parts: list[tuple[Any, str, str]] = [
        (desk_module, "make_client", "chroma client"),
        (desk_module, "make_embedder", "embedder (tokenizers)"),
        (ChromaStore, "__init__", "chroma collections"),
        (ChromaStore, "list_articles", "catalog (article records)"),
        (ChromaStore, "iter_chunks", "read chunk texts from chroma"),
        (ChromaStore, "get_chunks", "read chunk texts from chroma"),
        (desk_module, "lexical_terms", "lexical terms (stemming)"),
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
    watch.patch(desk.store, "get_article", "chroma get article texts")
    watch.patch(lexical, "search", "bm25 search")
    watch.patch(lexical, "coverage", "coverage")
    watch.patch(desk_module, "answer_offline", "offline answerer")
    if hasattr(desk, "sync"):  # catching up with other writers, at most every sync_interval
        watch.patch(desk, "sync", "sync with the store")

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
    catalog = desk._catalog
    found["catalog"] = (sys.getsizeof(catalog) + sum(
        sys.getsizeof(k) + sys.getsizeof(v) + sum(sys.getsizeof(x) for x in v)
        for k, v in catalog.items())) / mib
    return found


# ---------------------------------------------------------------- the Chroma server


class ChromaServer:
    """``chroma run`` on a free port, for one build or one measurement."""

    def __init__(self, path: Path, log_path: Path) -> None:
        self.path = path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.startup_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.path.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT,
            )
        deadline = start + 120
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"chroma run exited ({self.process.returncode}); see "
                                 f"{self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    self.startup_s = time.perf_counter() - start
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"chroma run did not answer within 120 s; see {self.log_path}")

    def peak_rss_mib(self) -> float:
        return peak_rss_mib(self.process.pid) if self.process else 0.0

    def rss_mib(self) -> float:
        return rss_mib(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


# ---------------------------------------------------------------- report


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")


def real_ingest_s(run: Result, embed_rate: float) -> float:
    """Measured ingest, minus the vector look-ups, plus embedding every chunk for real."""
    build = run["build"]
    return build["ingest_s"] - build["parts_s"].get("vectors", 0.0) + build["chunks"] / embed_rate


def serving_rss(run: Result) -> float:
    serve = run["serve"]
    return float(serve["peak_rss_mib"] + serve.get("server_peak_rss_mib", 0.0))


def ready_s(part: Result) -> float:
    """Start-up until the first answer: constructing the desk, then its first ask."""
    return float(part["construct_s"] + part["first_ask_s"])


def slope_per_10k(points: Sequence[tuple[int, float]]) -> float:
    """Least-squares slope, per 10,000 chunks."""
    if len(points) < 2:
        return float("nan")
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 10_000 if sxx else float("nan")


def growth(runs: Sequence[Result], value: Callable[[Result], float]) -> tuple[str, str]:
    """Slope per 10k chunks over all sizes, and the slope between each pair of sizes."""
    points = [(r["serve"]["chunks"], value(r)) for r in runs]
    steps = [
        f"{slope_per_10k([points[i], points[i + 1]]):+,.2f}"
        for i in range(len(points) - 1)
    ]
    return f"{slope_per_10k(points):+,.2f}", " / ".join(steps)


def _idle(run: Result, key: str) -> float:
    value = (run["serve"].get("ask_after_idle") or {}).get(key)
    return float("nan") if value is None else float(value)


def _parts_table(title: str, parts: dict[str, float], total: float) -> None:
    rows = [(k, f"{v:.2f}") for k, v in parts.items() if abs(v) >= 0.005]
    rows.append(("total", f"{total:.2f}"))
    table(title, ("part", "s"), rows)


def report_header(summary: Result) -> None:
    env, vectors = summary["environment"], summary["vectors"]
    rate = vectors["embed_chunks_per_s"]
    print("\n# Scale benchmark")
    print(f"machine: {env['cpu_count']} CPUs, "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    codes = {json.dumps(r["serve"].get("code"), sort_keys=True) for r in summary["runs"]}
    print("service code measured: " + "; ".join(
        f"commit {c['commit']}, service/ sha256 {c['service_sha256']}, uncommitted changes "
        f"{c['service_uncommitted_changes']}" for c in map(json.loads, sorted(codes)) if c))
    cos = vectors["derived_vs_real_cosine"]
    print(f"texts: {vectors['source_texts']} source texts (SummEval, SQuAD, RGB, seeds) cut into "
          f"{vectors['half_chunks']} half-chunks of {HALF_MIN_TOKENS}-{HALF_MAX_TOKENS} tokens; "
          "a chunk is two of them joined by a line break, an article 3-12 chunks")
    print("vectors: each half-chunk embedded once with MiniLM "
          f"({vectors['half_chunks_embedded_now']} now, the rest from {vectors['cache']}); "
          "a chunk's vector is the re-normalised mean of its halves' vectors; on "
          f"{vectors['sample_chunks']} chunks its cosine with the real embedding is median "
          f"{cos['median']:.3f}, 5th percentile {cos['p5']:.3f}, min {cos['min']:.3f}")
    print(f"real embedding throughput: {rate:.1f} chunks/s on {vectors['sample_chunks']} chunks "
          f"of {vectors['sample_mean_tokens']:.0f} tokens (1-minute load "
          f"{vectors['load_average_1min']['before']:.1f}); 'real embedding' ingest adds "
          "chunks / this rate to the measured ingest time")
    for run in summary["runs"]:
        build = run["build"]
        if build.get("reused"):
            print(f"{run['mode']} {run['size']}: store reused from {run['store']} (built "
                  f"{build.get('built_at')}, 1-minute load "
                  f"{build['load_average_1min']['before']:.1f}); its ingest figures are from "
                  "that build")
        if build["vectors_embedded_for_real"]:
            print(f"{run['mode']} {run['size']}: {build['vectors_embedded_for_real']} chunk(s) "
                  "were not known pairs and were embedded for real during ingest")


def report(summary: Result) -> None:
    report_header(summary)
    rate = summary["vectors"]["embed_chunks_per_s"]
    runs = summary["runs"]
    rows: list[tuple[str, ...]] = []
    for run in runs:
        b, s = run["build"], run["serve"]
        memory = number(s["peak_rss_mib"])
        if "server_peak_rss_mib" in s:
            memory += f" + {number(s['server_peak_rss_mib'])} server"
        disk = number(run["disk_bytes"]["total"] / 2**20)
        if run.get("lexical_cache_bytes"):
            disk += f" + {number(run['lexical_cache_bytes'] / 2**20)}"
        rows.append((
            run["mode"], number(s["chunks"]), number(s["docs"]),
            number(b["docs_per_s"], 1), number(b["chunks_per_s"]),
            number(s["chunks"] / real_ingest_s(run, rate), 1),
            number(s["ask"]["p50_ms"]), number(s["ask"]["p95_ms"]),
            f"{s['ask_after_ingest_s'] * 1000:,.0f}",
            memory, f"{ready_s(s):.1f}", f"{ready_s(run['cold']):.1f}", disk,
        ))
    table("Scale (2 cores; ask = offline answer, top_k 8, question embedding included)", (
        "Chroma", "chunks", "articles", "ingest articles/s", "ingest chunks/s (vectors ready)",
        "ingest chunks/s (real embedding, extrapolated)", "ask p50 ms", "ask p95 ms",
        "first ask after a write ms", "peak RSS MiB (serving)",
        "start-up s (lexical cache present)", "start-up s (no lexical cache)",
        "disk MiB (store + lexical cache)"), rows)
    print("start-up: a fresh process constructing the desk on the built store and answering its "
          "first question; 'no lexical cache' is the first open (the cache removed; with the "
          "server, a freshly started one), 'present' the next open")

    for mode in dict.fromkeys(r["mode"] for r in runs):
        mine = [r for r in runs if r["mode"] == mode]
        if len(mine) < 2:
            continue
        measures: list[tuple[str, Callable[[Result], float]]] = [
            ("peak RSS serving, MiB", serving_rss),
            ("peak RSS ingest, MiB", lambda r: r["build"]["peak_rss_mib"]
             + r["build"].get("server_peak_rss_mib", 0.0)),
            ("disk (store), MiB", lambda r: r["disk_bytes"]["total"] / 2**20),
            ("disk (lexical cache), MiB", lambda r: r.get("lexical_cache_bytes", 0) / 2**20),
            ("start-up, lexical cache present, s", lambda r: ready_s(r["serve"])),
            ("start-up, no lexical cache, s", lambda r: ready_s(r["cold"])),
            ("ask p50, ms", lambda r: r["serve"]["ask"]["p50_ms"]),
            ("ask p95, ms", lambda r: r["serve"]["ask"]["p95_ms"]),
            ("ask p95 with the change check, ms", lambda r: _idle(r, "p95_ms")),
            ("first ask after a write, ms", lambda r: r["serve"]["ask_after_ingest_s"] * 1000),
        ]
        sizes = " -> ".join(number(r["serve"]["chunks"]) for r in mine)
        table(f"Growth per 10k chunks, {mode} (least squares over all sizes; then between "
              f"successive sizes {sizes})", ("measure", "per 10k chunks", "between sizes"),
              [(label, *growth(mine, fn)) for label, fn in measures])

    for run in runs:
        report_size(run)
    report_goals(runs)


def report_size(run: Result) -> None:
    s, b, cold = run["serve"], run["build"], run["cold"]
    label = f"{run['mode']} {number(s['chunks'])} chunks"
    print(f"\n### {label}")
    for name, part in (("no lexical cache", cold), ("lexical cache present", s)):
        print(f"start-up, {name}: imports {part['import_s']:.2f} s, then")
        _parts_table(f"Start-up ({name}), {label}: construct", part["construct_parts_s"],
                     part["construct_s"])
        _parts_table(f"Start-up ({name}), {label}: first ask", part["first_ask_parts_s"],
                     part["first_ask_s"])
    if "server_startup_s" in s:
        print(f"chroma run answered its heartbeat {s['server_startup_s']:.2f} s after starting")

    parts = sorted(s["ask_parts"].items(), key=lambda kv: -kv[1]["mean_ms"])
    rows = [(k, f"{v['p50_ms']:.1f}", f"{v['p95_ms']:.1f}", f"{v['mean_ms']:.1f}")
            for k, v in parts if v["mean_ms"] >= 0.05]
    rows.append(("ask (total)", f"{s['ask']['p50_ms']:.1f}", f"{s['ask']['p95_ms']:.1f}",
                 f"{s['ask']['mean_ms']:.1f}"))
    table(f"Ask by part, {label} ({s['ask']['n']} questions; {s['ask']['abstained']} "
          f"abstained; {s['ask']['distinct_passage_texts_mean']:.1f} distinct passage texts "
          f"of {TOP_K})", ("part", "p50 ms", "p95 ms", "mean ms"), rows)
    print(f"CPU time per ask (this process, all threads): p50 {s['ask']['cpu_p50_ms']:.0f} ms, "
          f"p95 {s['ask']['cpu_p95_ms']:.0f} ms; CPU/wall over the asks "
          f"{s['ask']['cpu_per_wall']:.2f}")
    idle = s.get("ask_after_idle") or {}
    if idle.get("n"):
        print(f"{idle['n']} asks, each checking the store's change records first: p50 "
              f"{idle['p50_ms']:,.0f} ms, p95 "
              f"{idle['p95_ms']:,.0f} ms; the sync itself p50 {idle['sync_p50_ms']:,.1f} ms, "
              f"max {idle['sync_max_ms']:,.1f} ms")
    full = s.get("ask_with_full_sync") or {}
    if full:
        print(f"the background re-read of every article record: "
              f"{full['recheck_s'] * 1000:,.0f} ms")
    after = s["ask_after_ingest_parts_s"]
    print(f"after one ingest the next ask took {s['ask_after_ingest_s'] * 1000:,.0f} ms, of "
          f"which the BM25 index build {after.get('bm25 index build', 0) * 1000:,.0f} ms; "
          f"after one delete {s['ask_after_delete_s'] * 1000:,.0f} ms")
    mem = s["index_memory_mib"]
    print("memory (serving): RSS after construct "
          f"{number(s['rss_after_construct_mib'])} MiB, after first ask "
          f"{number(s['rss_after_first_ask_mib'])} MiB, peak {number(s['peak_rss_mib'])} MiB "
          "(peak so far after each phase: " + ", ".join(
              f"{k} {number(v)}" for k, v in s["peak_rss_after_mib"].items())
          + "); " + ", ".join(f"{k} ~{v:,.0f} MiB" for k, v in mem.items()))
    if "server_peak_rss_mib" in s:
        print(f"Chroma server: peak RSS {number(s['server_peak_rss_mib'])} MiB, RSS at the end "
              f"{number(s['server_rss_mib'])} MiB")
    print(f"no lexical cache: peak RSS {number(cold['peak_rss_mib'])} MiB")
    ingest_parts = ", ".join(f"{k} {v:.0f} s" for k, v in b["parts_s"].items())
    print(f"ingest: {b['ingest_s']:.0f} s ({ingest_parts}); chunks/s first tenth "
          f"{b['chunks_per_s_first_tenth']:.0f}, last tenth {b['chunks_per_s_last_tenth']:.0f}"
          f"; CPU/wall {b['ingest_cpu_s'] / b['ingest_s']:.2f}; peak RSS "
          f"{number(b['peak_rss_mib'])} MiB"
          + (f" + server {number(b['server_peak_rss_mib'])} MiB"
             if "server_peak_rss_mib" in b else ""))
    disk = run["disk_bytes"]
    print(f"disk: store {disk['total'] / 2**20:,.1f} MiB (SQLite {disk['sqlite'] / 2**20:,.1f}, "
          f"vector segments {disk['vector_segments'] / 2**20:,.1f}), lexical cache "
          f"{run.get('lexical_cache_bytes', 0) / 2**20:,.1f} MiB; 1-minute load around the "
          f"asks {s['load_average_1min']['before']:.1f} -> {s['load_average_1min']['after']:.1f}")


def report_goals(runs: Sequence[Result]) -> None:
    goals: list[tuple[str, ...]] = []
    for run in runs:
        s = run["serve"]
        if s["chunks"] < GOAL_SIZE:
            continue
        idle_p95 = (s.get("ask_after_idle") or {}).get("p95_ms")
        checks = [
            (f"ask p95 < {GOAL_ASK_P95_MS:g} ms (back-to-back asks)", s["ask"]["p95_ms"],
             GOAL_ASK_P95_MS, "ms"),
            (f"ask p95 < {GOAL_ASK_P95_MS:g} ms (each with its change check)", idle_p95,
             GOAL_ASK_P95_MS, "ms"),
            (f"start-up < {GOAL_STARTUP_S:g} s (lexical cache present)", ready_s(s),
             GOAL_STARTUP_S, "s"),
            (f"start-up < {GOAL_STARTUP_S:g} s (no lexical cache)", ready_s(run["cold"]),
             GOAL_STARTUP_S, "s"),
        ]
        for goal, value, limit, unit in checks:
            if value is not None:
                goals.append((f"{run['mode']} {number(s['chunks'])} chunks: {goal}",
                               f"{value:,.{0 if unit == 'ms' else 1}f} {unit}",
                               "met" if value < limit else "not met"))
    if goals:
        table("Goals (2 cores)", ("goal", "measured", "result"), goals)


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
