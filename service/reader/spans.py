"""Turn the reader's start and end logits into scored answer spans.

A span's score is its start logit plus its end logit; the no-answer score of a window is the
same sum at [CLS] (token 0), as in SQuAD 2.0 readers. Training-time evaluation and the
answerer both decode here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.reader.windows import Window

MAX_ANSWER_TOKENS = 30
FloatVector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class WindowSpan:
    first: int  # token indices in the window, both included
    last: int
    score: float
    null_score: float

    @property
    def margin(self) -> float:
        """How much more the model believes in the span than in "no answer here"."""
        return self.score - self.null_score


def best_spans(
    window: Window,
    start_logits: FloatVector,
    end_logits: FloatVector,
    top_n: int = 1,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> list[WindowSpan]:
    """The ``top_n`` best spans inside the window's passage tokens, best first."""
    lo, hi = window.context_start, window.context_end + 1
    starts = start_logits[lo:hi].astype(np.float64)
    ends = end_logits[lo:hi].astype(np.float64)
    scores = starts[:, None] + ends[None, :]
    n = hi - lo
    rows, cols = np.indices((n, n))
    allowed = (cols >= rows) & (cols - rows < max_tokens)
    scores = np.where(allowed, scores, -np.inf)
    flat = scores.ravel()
    k = min(top_n, int(allowed.sum()))
    best = np.argpartition(-flat, k - 1)[:k]
    best = best[np.argsort(-flat[best])]
    null = float(start_logits[0]) + float(end_logits[0])
    return [
        WindowSpan(lo + int(i // n), lo + int(i % n), float(flat[i]), null)
        for i in best
    ]
