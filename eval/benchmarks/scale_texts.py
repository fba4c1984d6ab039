"""scale.py's synthetic stores: the texts they are built from (half-chunks of the benchmark
paragraphs, recombined into articles), the questions asked of them, and the vectors (each
half-chunk embedded once, cached; a chunk's vector derived from its halves')."""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

from common import jsonl, log

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
SYNTHESIS = "halves-v3-dated"
# Article n is published on FIRST_DAY + (n * 7919 mod DAYS): spread evenly over two years, in
# no order the ids follow.
FIRST_DAY = date(2024, 1, 1)
DAYS = 731

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
    published: str  # YYYY-MM-DD


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
        published = FIRST_DAY + timedelta(days=number * 7919 % DAYS)
        yield SyntheticArticle(f"scale-{number:06d}", f"Scale article {number}", text,
                               len(pieces), published.isoformat())
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
