"""Fine-tune an encoder as the reader (SQuAD 2.0-style extractive QA with a no-answer option)
and export it to ONNX. Needs the ``train`` extra (PyTorch, transformers); nothing at run time
imports this module.

Each window is labelled with the answer's first and last token, or [CLS] when the window
holds no answer (an unanswerable question, or a window cut away from the answer). The run
checkpoints every few minutes and resumes from the last checkpoint, prints examples/s, loss
and ETA, and stops after a time budget; the learning-rate schedule spans ``max_examples``.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from service.reader.windows import Window, load_tokenizer, make_windows
from service.training.training_data import (
    QAExample,
    changed_count,
    counted_nouns,
    mentions,
    names_and_numbers,
    retrieved_elsewhere,
    swapped_question,
    without_answer_sentence,
)

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    base_model: Path
    output: Path
    checkpoint_dir: Path
    max_examples: int = 60_000  # windows seen over the whole schedule
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_share: float = 0.06
    weight_decay: float = 0.01
    time_budget_s: float | None = None
    checkpoint_every_s: float = 300.0
    seed: int = 13
    bf16: bool = True
    freeze_word_embeddings: bool = True
    threads: int | None = None
    negative_share: float = 0.3  # chance of each made-up unanswerable window (see featurize)
    swap_share: float = 0.5  # chance of a question with a swapped name or number (featurize)
    retrieved_share: float = 0.0  # chance of a passage retrieved from another article (featurize)
    count_share: float = 0.0  # chance of a "How many" question counting something else
    init_from: Path | None = None  # an exported reader (model.onnx) to start from


@dataclass
class Feature:
    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    start: int
    end: int


@dataclass
class TrainState:
    step: int = 0
    examples_seen: int = 0
    elapsed_s: float = 0.0
    losses: list[float] = field(default_factory=list)


def label_windows(example: QAExample, windows: Sequence[Window]) -> list[Feature]:
    """Features for one example's windows: the answer's token span, or (0, 0) for [CLS]."""
    features = []
    for window in windows:
        start = end = 0
        if example.answerable:
            a0 = example.answer_start
            a1 = a0 + len(example.answers[0])
            first = window.offsets[window.context_start][0]
            last = window.offsets[window.context_end][1]
            if first <= a0 and a1 <= last:
                tokens = range(window.context_start, window.context_end + 1)
                start = next(i for i in tokens if window.offsets[i][1] > a0)
                end = max(i for i in tokens if window.offsets[i][0] < a1)
        features.append(Feature(window.ids, window.type_ids, start, end))
    return features


def featurize(examples: Sequence[QAExample], tokenizer_path: Path, negative_share: float,
              seed: int, swap_share: float = 0.0, retrieved_share: float = 0.0,
              count_share: float = 0.0) -> list[Feature]:
    """Training windows: each question with its own context, plus unanswerable ones made
    from it. With probability ``negative_share`` each, an answerable question is also
    paired with its context less the sentence that holds the answer (on topic, but silent on
    the point: the case an answerer most often meets among retrieved passages) and with
    another paragraph of its article; with probability ``swap_share``, its question with a
    name or number swapped for one the context lacks (``swapped_question``) is paired with
    the window that holds the now merely plausible answer. With ``retrieved_share``, the
    question is also paired with the best passage a BM25 search finds in another article
    (``retrieved_elsewhere``), and with ``count_share`` a "How many" question is made to count
    something its context never mentions (``changed_count``). A long context gives all the
    windows that hold the answer and one window that does not."""
    tokenizer = load_tokenizer(tokenizer_path)
    rng = random.Random(seed)
    by_title: dict[str, list[str]] = {}
    for example in examples:
        contexts = by_title.setdefault(example.title, [])
        if not contexts or contexts[-1] != example.context:
            contexts.append(example.context)
    pool = names_and_numbers(e.question for e in examples)
    nouns = counted_nouns(e.question for e in examples)
    elsewhere = retrieved_elsewhere(examples, retrieved_share, seed) if retrieved_share else {}
    features: list[Feature] = []
    for example in examples:
        windows = make_windows(tokenizer, example.question, [example.context])
        labelled = label_windows(example, windows)
        answered = [f for f in labelled if f.start > 0]
        silent = [f for f in labelled if f.start == 0]
        features.extend(answered + rng.sample(silent, min(len(silent), 1)))
        if not example.answerable:
            continue
        if rng.random() < negative_share:
            cut = without_answer_sentence(example)
            if cut is not None:
                window = make_windows(tokenizer, example.question, [cut])[0]
                features.append(Feature(window.ids, window.type_ids, 0, 0))
        others = [c for c in by_title[example.title] if c != example.context]
        if others and rng.random() < negative_share:
            other = rng.choice(others)
            if not mentions(other, example.answers):
                window = make_windows(tokenizer, example.question, [other])[0]
                features.append(Feature(window.ids, window.type_ids, 0, 0))
        if swap_share and rng.random() < swap_share:
            features.extend(_asked_otherwise(tokenizer, example,
                                             swapped_question(example, pool, rng)))
        if example.id in elsewhere:
            window = make_windows(tokenizer, example.question, [elsewhere[example.id]])[0]
            features.append(Feature(window.ids, window.type_ids, 0, 0))
        if count_share and rng.random() < count_share:
            features.extend(_asked_otherwise(tokenizer, example,
                                             changed_count(example, nouns, rng)))
    return features


def _asked_otherwise(tokenizer, example: QAExample,  # type: ignore[no-untyped-def]
                     question: str | None) -> list[Feature]:
    """The changed ``question`` (None: none could be made) with the window that holds the
    original answer, now merely plausible, labelled unanswerable."""
    if question is None:
        return []
    windows = make_windows(tokenizer, question, [example.context])
    holding = [w for w, f in zip(windows, label_windows(example, windows)) if f.start > 0]
    return [Feature(w.ids, w.type_ids, 0, 0) for w in holding[:1]]


def saved_state(checkpoint_dir: Path) -> TrainState | None:
    """The training state in the checkpoint, if there is one."""
    import torch

    checkpoint = checkpoint_dir / "last.pt"
    if not checkpoint.exists():
        return None
    return TrainState(**torch.load(checkpoint, weights_only=False)["state"])


def _batches(features: Sequence[Feature], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), in a shuffled order."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(features)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches: list[list[int]] = []
    for i in range(0, len(order), pool):
        group = sorted(order[i : i + pool], key=lambda j: len(features[j].ids))
        batches.extend(group[k : k + batch_size] for k in range(0, len(group), batch_size))
    rng.shuffle(batches)
    return batches


def train(config: TrainConfig, features: Sequence[Feature], log: Log) -> TrainState:
    import torch
    from transformers import AutoModelForQuestionAnswering

    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    config.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = config.checkpoint_dir / "last.pt"
    model = AutoModelForQuestionAnswering.from_pretrained(str(config.base_model))
    if config.init_from is not None and not checkpoint.exists():
        from service.training.warm_start import load_into

        load_into(model, config.init_from)
        log(f"warm start from {config.init_from}")
    if config.freeze_word_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}], lr=config.learning_rate)
    total_steps = max(1, config.max_examples // config.batch_size)
    warmup = max(1, int(total_steps * config.warmup_share))

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    state = TrainState()
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        state = TrainState(**saved["state"])
        log(f"resumed at step {state.step} ({state.examples_seen} windows, "
            f"{state.elapsed_s / 60:.1f} min trained)")

    model.train()
    epoch_len = math.ceil(len(features) / config.batch_size)
    started = time.monotonic()
    elapsed_before = state.elapsed_s
    last_save = started
    window_start, window_examples = started, 0

    def save() -> None:
        state.elapsed_s = elapsed_before + time.monotonic() - started
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "state": asdict(state),
                    "config": {k: str(v) for k, v in asdict(config).items()}}, tmp)
        tmp.replace(checkpoint)

    batches: list[list[int]] = []
    batches_epoch = -1
    while state.step < total_steps:
        epoch, offset = divmod(state.step, epoch_len)
        if epoch != batches_epoch:  # the epoch's order, made once (it depends on the epoch only)
            batches, batches_epoch = _batches(features, config.batch_size, config.seed, epoch), epoch
        batch = batches[offset]
        chosen = [features[i] for i in batch]
        width = max(len(f.ids) for f in chosen)
        ids = torch.zeros((len(chosen), width), dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        for row, f in enumerate(chosen):
            ids[row, : len(f.ids)] = torch.tensor(f.ids)
            types[row, : len(f.ids)] = torch.tensor(f.type_ids)
            mask[row, : len(f.ids)] = 1
        starts = torch.tensor([f.start for f in chosen])
        ends = torch.tensor([f.end for f in chosen])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=types,
                        start_positions=starts, end_positions=ends)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.examples_seen += len(chosen)
        state.losses.append(round(out.loss.item(), 4))
        window_examples += len(chosen)
        now = time.monotonic()
        if state.step % 20 == 0 or state.step == total_steps:
            rate = window_examples / max(1e-9, now - window_start)
            left = (total_steps - state.step) * config.batch_size / max(rate, 1e-9)
            recent = state.losses[-20:]
            log(f"step {state.step}/{total_steps}  loss {sum(recent) / len(recent):.3f}  "
                f"{rate:.1f} windows/s  lr {scheduler.get_last_lr()[0]:.2e}  "
                f"ETA {left / 60:.0f} min")
            window_start, window_examples = now, 0
        if now - last_save >= config.checkpoint_every_s:
            save()
            last_save = now
        budget_over = (config.time_budget_s is not None
                       and elapsed_before + now - started >= config.time_budget_s)
        if budget_over:
            log(f"time budget reached at step {state.step}")
            break
    save()
    model.eval()
    model.save_pretrained(str(config.checkpoint_dir / "hf"))
    return state


def export_onnx(checkpoint_dir: Path, tokenizer_path: Path, output: Path, quantize: bool,
                log: Log) -> Path:
    """``output/model.onnx`` (int8 weights when ``quantize``) and ``output/tokenizer.json``."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    # Eager attention, traced on a padded batch: a trace of the SDPA path on an all-ones mask
    # drops the mask from the graph (padded batches then gave wrong logits).
    model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint_dir / "hf"),
                                                          attn_implementation="eager")
    model.eval()
    output.mkdir(parents=True, exist_ok=True)
    fp32 = checkpoint_dir / "model-fp32.onnx"
    dummy = torch.randint(1000, 2000, (2, 16))
    dummy_mask = torch.ones_like(dummy)
    dummy_mask[1, 10:] = 0

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    torch.onnx.export(
        Wrapped().eval(), (dummy, dummy_mask, torch.zeros_like(dummy)), str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["start_logits", "end_logits"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in
                      ("input_ids", "attention_mask", "token_type_ids", "start_logits",
                       "end_logits")},
        opset_version=17, dynamo=False,
    )
    _check_parity(model, fp32, log)
    target = output / "model.onnx"
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8)
    else:
        shutil.copyfile(fp32, target)
    shutil.copyfile(tokenizer_path, output / "tokenizer.json")
    log(f"exported {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return target


def _check_parity(model, onnx_file: Path, log: Log) -> None:  # type: ignore[no-untyped-def]
    """The exported graph gives the PyTorch model's logits on a padded batch."""
    import numpy as np
    import onnxruntime as ort
    import torch

    model.eval()  # exporting a wrapper in train mode would put the model back in train mode
    ids = torch.randint(1000, 20000, (2, 24))
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0
    types = torch.zeros_like(ids)
    types[:, 8:] = 1
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    start, end = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                                    "token_type_ids": types.numpy()})
    keep = mask.numpy().astype(bool)
    diff = max(float(np.abs(start - out.start_logits.numpy())[keep].max()),
               float(np.abs(end - out.end_logits.numpy())[keep].max()))
    if diff > 1e-3:
        raise RuntimeError(f"the ONNX export differs from the PyTorch model by {diff:.2g}")
    log(f"ONNX export matches PyTorch (max logit difference {diff:.1e})")


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


