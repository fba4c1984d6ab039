"""Training the reader: a few steps on a tiny set lower the loss, a resumed run goes on from
its checkpoint, and the exported ONNX model loads and reads. Needs the ``train`` extra
(PyTorch, transformers); skipped without it (``.ci/run`` runs it in a venv that has it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from service.training.training_data import QAExample

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None,
    reason="needs the train extra: pip install -e '.[train]'",
)

CONTEXTS = [
    (("The bridge over the Vistula opened in 1914 and was rebuilt by engineer Anna Kowalska "
     "after the war, at a cost of 4 million zloty."),
     [("When did the bridge open?", "1914"), ("Who rebuilt the bridge?", "Anna Kowalska"),
      ("How much did the rebuilding cost?", "4 million zloty"),
      ("What colour is the bridge?", None)]),
    ("Mayor Zoë Kravčenko said the café’s festival raised €1,200 — a record — on Tuesday.",
     [("Who is the mayor?", "Zoë Kravčenko"), ("How much did the festival raise?", "€1,200"),
      ("Where was the mayor born?", None)]),
]


def tiny_examples() -> list[QAExample]:
    examples = []
    for c, (context, questions) in enumerate(CONTEXTS):
        for q, (question, answer) in enumerate(questions):
            start = context.index(answer) if answer else -1
            examples.append(QAExample(f"{c}-{q}", f"t{c}", question, context,
                                      (answer,) if answer else (), start))
    return examples


def test_a_few_steps_lower_the_loss_and_the_export_reads(tmp_path: Path) -> None:
    from service.reader.reader import Reader, ReaderPassage
    from service.training import training
    from service.training.train_command import base_model_dir

    base = base_model_dir()
    features = training.featurize(tiny_examples(), base / "tokenizer.json", 0.0, seed=1)
    assert len(features) == 7
    assert sum(f.start > 0 for f in features) == 5  # answerable ones point into the passage
    config = training.TrainConfig(base_model=base, output=tmp_path / "out",
                                  checkpoint_dir=tmp_path / "ckpt", max_examples=7 * 30,
                                  batch_size=7, learning_rate=3e-4, warmup_share=0.05,
                                  threads=2, time_budget_s=None)
    config.max_examples = 7 * 12  # 12 steps over the same batch
    state = training.train(config, features, lambda line: None)
    assert state.step == 12
    assert sum(state.losses[-3:]) / 3 < 0.7 * sum(state.losses[:3]) / 3

    # Resuming with a longer schedule goes on from step 12, not from scratch.
    config.max_examples = 7 * 14
    resumed = training.train(config, features, lambda line: None)
    assert resumed.step == 14 and len(resumed.losses) == 14

    model = training.export_onnx(config.checkpoint_dir, base / "tokenizer.json",
                                 tmp_path / "out", quantize=False, log=lambda line: None)
    assert model.is_file()
    reader = Reader(tmp_path / "out")
    context = CONTEXTS[0][0]
    reading = reader.read("Who rebuilt the bridge?", [ReaderPassage("a", 0, len(context), context)],
                          {"a": context})
    assert reading.spans and all(context[s.start:s.end] == s.text for s in reading.spans)
    assert len(reading.null_scores) == 1


def test_a_warm_start_takes_the_shipped_readers_weights() -> None:
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForQuestionAnswering

    from service.reader.model_files import MODEL_DIR
    from service.training.train_command import base_model_dir
    from service.training.warm_start import load_into

    model = AutoModelForQuestionAnswering.from_pretrained(str(base_model_dir()))
    missing = load_into(model, MODEL_DIR / "model.onnx")
    assert missing == []
    model.eval()
    ids = torch.randint(1000, 20000, (1, 48))
    types = torch.zeros_like(ids)
    types[:, 16:] = 1
    with torch.no_grad():
        start = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                      token_type_ids=types).start_logits.numpy()
    session = ort.InferenceSession(str(MODEL_DIR / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    shipped = session.run(None, {"input_ids": ids.numpy(), "attention_mask": np.ones_like(
        ids.numpy()), "token_type_ids": types.numpy()})[0]
    # int8 activations make the shipped graph differ a little; an untrained head would not
    # correlate at all.
    assert np.corrcoef(start[0], shipped[0])[0, 1] > 0.95
