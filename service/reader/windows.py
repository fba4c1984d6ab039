"""Question-plus-passage windows for the reader, with each token's char span in the passage.

A passage longer than one window is cut into overlapping windows (``stride`` tokens shared),
so an answer near a cut is whole in at least one of them. Training and answering build their
windows here, so the model reads at run time exactly what it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Encoding, Tokenizer

MAX_TOKENS = 192  # question + passage + 3 special tokens; a 160-token chunk fits in one window
STRIDE = 64
MAX_QUESTION_TOKENS = 48

IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Window:
    """One model input. ``offsets[i]`` is token i's (start, end) in the passage text, or
    (-1, -1) for the question and special tokens. Token 0 is [CLS], the no-answer position."""

    passage: int  # index of the passage among those given
    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    context_start: int  # first and last token of the passage in this window
    context_end: int

    def char_span(self, first: int, last: int) -> tuple[int, int]:
        """The passage chars from token ``first`` to token ``last`` (both included)."""
        return self.offsets[first][0], self.offsets[last][1]


@dataclass(frozen=True)
class WindowTokenizer:
    """Two copies of one tokenizer: ``pairs`` cuts (question, passage) pairs into windows,
    ``plain`` measures the question. Their settings never change after loading, so concurrent
    callers cannot interfere."""

    pairs: Tokenizer
    plain: Tokenizer


def load_tokenizer(path: Path, max_tokens: int = MAX_TOKENS,
                   stride: int = STRIDE) -> WindowTokenizer:
    pairs = Tokenizer.from_file(str(path))
    pairs.no_padding()
    pairs.enable_truncation(max_tokens, stride=stride, strategy="only_second")
    plain = Tokenizer.from_file(str(path))
    plain.no_padding()
    plain.no_truncation()
    return WindowTokenizer(pairs, plain)


def make_windows(tokenizer: WindowTokenizer, question: str,
                 passages: Sequence[str]) -> list[Window]:
    """Windows for each passage, in passage order. The question is cut to its first
    ``MAX_QUESTION_TOKENS`` tokens so that every window keeps room for the passage."""
    question = _clip_question(tokenizer, question)
    encodings = tokenizer.pairs.encode_batch([(question, passage) for passage in passages])
    windows: list[Window] = []
    for index, encoding in enumerate(encodings):
        for part in (encoding, *encoding.overflowing):
            window = _window(index, part)
            if window is not None:
                windows.append(window)
    return windows


def batch_arrays(windows: Sequence[Window]) -> dict[str, IntMatrix]:
    """Model inputs for a batch, padded to its longest window."""
    width = max(len(w.ids) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, window in enumerate(windows):
        n = len(window.ids)
        ids[row, :n] = window.ids
        types[row, :n] = window.type_ids
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _clip_question(tokenizer: WindowTokenizer, question: str) -> str:
    offsets = tokenizer.plain.encode(question, add_special_tokens=False).offsets
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]]


def _window(index: int, encoding: Encoding) -> Window | None:
    sequence = encoding.sequence_ids
    context = [i for i, s in enumerate(sequence) if s == 1]
    if not context:
        return None
    offsets = tuple(
        (int(o[0]), int(o[1])) if s == 1 else (-1, -1)
        for o, s in zip(encoding.offsets, sequence)
    )
    return Window(index, tuple(encoding.ids), tuple(encoding.type_ids), offsets,
                  context[0], context[-1])
