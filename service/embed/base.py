"""What every embedder shares: MiniLM token counts for chunk sizing, and a bounded cache of
recent vectors (a question is embedded for retrieval and again by the answerer, and the same
evidence sentences come back for related questions)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

FloatMatrix = npt.NDArray[np.float32]
VECTOR_CACHE_SIZE = 20_000  # about 30 MB of 384-dimension vectors
# How much of a sentence is embedded to compare it with another (the summaries, the citation
# checks, the rule-based answerer): the start of a run-on sentence carries its meaning.
SENTENCE_EMBED_CHARS = 400


class CachingEmbedder:
    """Subclasses provide ``embed`` and set ``_counter`` (a tokenizer without truncation)."""

    _counter: Tokenizer

    def __init__(self) -> None:
        self._cache: dict[str, npt.NDArray[np.float32]] = {}
        self._cache_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without [CLS]/[SEP] and without truncation."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    def embed_cached(self, texts: Sequence[str]) -> FloatMatrix:
        """Like ``embed``, remembering recent texts."""
        with self._cache_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self.embed(missing)
            with self._cache_lock:
                if len(self._cache) + len(missing) > VECTOR_CACHE_SIZE:
                    self._cache.clear()
                self._cache.update(zip(missing, vectors))
        with self._cache_lock:
            found = [self._cache.get(t) for t in texts]
        if not found:
            return self.embed(texts)
        if any(v is None for v in found):  # evicted meanwhile by another thread
            return self.embed(texts)
        return np.stack(found)  # type: ignore[arg-type]
