"""The reader: scores spans of retrieved passages as the answer to a question, and each
passage as holding no answer, with a small encoder fine-tuned by factdesk (see
``model/MODEL_CARD.md``) on ONNX Runtime.

Spans come back as exact char offsets into the stored article: a passage is a slice of its
article (``text[start:end]``), and every span found is checked against the article text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

from service.errors import InvariantBroken, ModelFilesMissing
from service.reader.model_files import MODEL_DIR
from service.reader.spans import best_spans
from service.reader.windows import Window, batch_arrays, load_tokenizer, make_windows

SPANS_PER_WINDOW = 3


@dataclass(frozen=True)
class ReaderPassage:
    """A passage to read: ``text`` is ``article_text[start:end]`` of article ``document_id``."""

    document_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ReaderSpan:
    """An answer span, with char offsets into its article."""

    document_id: str
    passage: int  # index of the passage it was read in
    start: int
    end: int
    text: str
    score: float
    null_score: float  # the no-answer score of the window it was read in

    @property
    def margin(self) -> float:
        return self.score - self.null_score


@dataclass(frozen=True)
class Reading:
    spans: list[ReaderSpan]  # best first
    null_scores: list[float]  # per passage: the lowest no-answer score over its windows

    @property
    def best(self) -> ReaderSpan | None:
        return self.spans[0] if self.spans else None


class Reader:
    def __init__(self, model_dir: Path = MODEL_DIR, threads: int | None = None):
        model = model_dir / "model.onnx"
        tokenizer = model_dir / "tokenizer.json"
        for path in (model, tokenizer):
            if not path.is_file():
                raise ModelFilesMissing(f"the reader's model file {path} is missing; reinstall "
                                        "factdesk or train one with `factdesk train-reader`")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model), options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = load_tokenizer(tokenizer)
        card = model_dir / "calibration.json"
        self.calibration = json.loads(card.read_text()) if card.is_file() else {}
        self.model_dir = model_dir

    @property
    def null_margin(self) -> float:
        """The span-over-no-answer margin an answer needs (calibrated at training time)."""
        return float(self.calibration.get("null_margin", 0.0))

    def read(self, question: str, passages: Sequence[ReaderPassage],
             article_texts: dict[str, str] | None = None) -> Reading:
        """Spans of all passages, best first, and each passage's no-answer score."""
        if not passages:
            return Reading([], [])
        windows = make_windows(self._tokenizer, question, [p.text for p in passages])
        starts, ends = self.logits(windows)
        nulls = [float("inf")] * len(passages)
        spans: list[ReaderSpan] = []
        for window, start_logits, end_logits in zip(windows, starts, ends):
            passage = passages[window.passage]
            null = float(start_logits[0]) + float(end_logits[0])
            nulls[window.passage] = min(nulls[window.passage], null)
            for found in best_spans(window, start_logits, end_logits, SPANS_PER_WINDOW):
                a, b = window.char_span(found.first, found.last)
                text = passage.text[a:b]
                span = ReaderSpan(passage.document_id, window.passage, passage.start + a,
                                  passage.start + b, text, found.score, found.null_score)
                if article_texts is not None:
                    stored = article_texts[passage.document_id][span.start : span.end]
                    if stored != text:
                        raise InvariantBroken("a reader span does not match the article text")
                spans.append(span)
        spans.sort(key=lambda s: s.score, reverse=True)
        return Reading(_distinct(spans), nulls)

    def logits(self, windows: Sequence[Window]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits of each window. Each window runs alone: the int8 model
        quantizes its activations with one scale per tensor, so a batch (and its padding)
        would shift every row's logits; alone, no padding is computed either."""
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        for window in windows:
            start_logits, end_logits = self._session.run(None, batch_arrays([window]))
            starts.append(start_logits[0])
            ends.append(end_logits[0])
        return starts, ends


def _distinct(spans: list[ReaderSpan]) -> list[ReaderSpan]:
    """One span per place in an article (overlapping windows read the same text twice)."""
    seen: set[tuple[str, int, int]] = set()
    kept = []
    for span in spans:
        key = (span.document_id, span.start, span.end)
        if key not in seen:
            seen.add(key)
            kept.append(span)
    return kept


@lru_cache(maxsize=4)
def shared_reader(threads: int | None = None) -> Reader:
    """One reader per process (and thread setting): the model loads once."""
    return Reader(threads=threads)
