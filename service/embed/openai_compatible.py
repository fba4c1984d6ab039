"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` server (OpenAI, llama.cpp, vLLM,
Ollama), chosen with ``FACTDESK_EMBEDDING_BACKEND=openai``.

Vectors are L2-normalised here, since servers differ (llama.cpp returns raw pooled vectors), so
that cosine similarity is a dot product as with MiniLM. Chunks are still sized with the MiniLM
tokenizer: the remote model's tokenizer is not available locally, and its counts only need to be
close enough to keep chunks well within the remote model's input limit.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import openai
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from service.config import Settings, get_settings
from service.embed.base import CachingEmbedder
from service.embed.minilm import FloatMatrix, _load_tokenizer
from service.errors import (
    EmbeddingFailure,
    EmbeddingModelMismatch,
    EmbeddingTimeout,
    EmbeddingUnavailable,
    InvariantBroken,
)

# Inputs per request: OpenAI takes up to 2048, but local servers embed a request in one go and
# a small request keeps each call well inside the client's timeout.
BATCH_SIZE = 64
# Local servers want no key, but the client insists on one.
PLACEHOLDER_KEY = "not-needed"
# Servers refuse empty input (OpenAI: 400; llama.cpp: a failed decode); a space embeds fine.
EMPTY_TEXT_STANDIN = " "
_PROBE_TEXT = "dimensions"


class OpenAIEmbedder(CachingEmbedder):
    """The same interface as ``MiniLMEmbedder`` (embed, embed_cached, count_tokens,
    count_tokens_batch, name, model_id, dimensions), with the vectors computed remotely.
    The ``openai`` client is thread-safe and built at first use, so constructing an embedder
    makes no network call; ``dimensions`` does when it was not configured."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model_id = model
        self.name = model
        self.base_url = base_url
        self.batch_size = batch_size
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._dimensions = dimensions
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()
        # An approximation of the remote model's token counts, for chunk sizing only.
        self._counter = _load_tokenizer(truncate_to=None)
        super().__init__()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> OpenAIEmbedder:
        key = settings.openai_api_key
        values: dict[str, Any] = {
            "base_url": settings.embedding_base_url or settings.openai_base_url or None,
            "api_key": key.get_secret_value() if key else None,
            "dimensions": settings.embedding_dimensions,
            "timeout": settings.llm_timeout,
            "max_retries": settings.llm_max_retries,
        }
        values.update(overrides)
        return cls(settings.embedding_model or "", **values)

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = openai.OpenAI(
                        api_key=self._api_key or PLACEHOLDER_KEY,
                        base_url=self.base_url,
                        timeout=self._timeout,
                        max_retries=self._max_retries,
                    )
        return self._client

    @property
    def dimensions(self) -> int:
        """Configured, or learned from the first response (one short request if none yet)."""
        if self._dimensions is None:
            self._request([_PROBE_TEXT])
        if self._dimensions is None:
            raise InvariantBroken("the embeddings server's reply set no dimensions")
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """float32 array of shape (len(texts), dimensions), L2-normalised, in input order."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        parts = [
            self._request(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _request(self, texts: Sequence[str]) -> FloatMatrix:
        inputs = [text or EMPTY_TEXT_STANDIN for text in texts]
        try:
            response = self.client.embeddings.create(model=self.model_id, input=inputs)
        except Exception as error:  # every failure becomes a typed embedding error
            raise embedding_failure(error) from error
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(inputs):
            raise EmbeddingFailure(
                f"the embeddings server returned {len(rows)} vectors for {len(inputs)} inputs")
        try:
            vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        except (TypeError, ValueError) as error:  # ragged: one vector per token, not pooled
            raise EmbeddingFailure("the embeddings server returned vectors of different "
                                   "lengths (is pooling enabled on the server?)") from error
        if vectors.ndim != 2:
            raise EmbeddingFailure("the embeddings server did not return one vector per input "
                                   "(is pooling enabled on the server?)")
        self._check_dimensions(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def _check_dimensions(self, found: int) -> None:
        with self._lock:
            if self._dimensions is None:
                self._dimensions = found
        if found != self._dimensions:
            raise EmbeddingFailure(
                f"the embeddings server returned {found}-dimensional vectors for model "
                f"{self.model_id!r}; expected {self._dimensions} (FACTDESK_EMBEDDING_DIMENSIONS "
                "or the first response)")


def embedding_failure(error: Exception) -> EmbeddingFailure:
    """The typed error for anything the client raised."""
    if isinstance(error, EmbeddingFailure):
        return error
    if isinstance(error, openai.APITimeoutError):
        return EmbeddingTimeout("the embeddings server did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return EmbeddingUnavailable("cannot connect to the embeddings server")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status in (429, 503):
            return EmbeddingUnavailable(
                f"the embeddings server is busy (HTTP {status}) after retries")
        return EmbeddingFailure(f"the embeddings server answered HTTP {status}")
    if isinstance(error, openai.OpenAIError):
        return EmbeddingFailure(f"the embeddings call failed: {type(error).__name__}")
    return EmbeddingFailure(f"the embeddings server sent output that could not be read "
                            f"({type(error).__name__})")


@register_embedding_function
class OpenAIEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of an ``OpenAIEmbedder``. Chroma stores ``name()`` and ``get_config()``
    with each collection and rebuilds the function from them on reopening; rebuilding makes no
    network call (the embedder is created, from the settings' key and timeouts, at first use)."""

    def __init__(
        self, embedder: OpenAIEmbedder | None = None, config: dict[str, Any] | None = None
    ) -> None:
        if embedder is None and config is None:
            raise ValueError("OpenAIEmbeddingFunction needs an embedder or a config")
        self._embedder = embedder
        self._config = config or {}
        self._lock = threading.Lock()

    @property
    def embedder(self) -> OpenAIEmbedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = OpenAIEmbedder.from_settings(
                        get_settings(),
                        model=self._config["model"],
                        base_url=self._config.get("base_url"),
                        dimensions=self._config.get("dimensions"),
                    )
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(input))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(input))

    @staticmethod
    def name() -> str:
        return "factdesk-openai-compatible"

    def get_config(self) -> dict[str, Any]:
        if self._embedder is None:
            return dict(self._config)
        return {
            "model": self._embedder.model_id,
            "dimensions": self._embedder.dimensions,
            "base_url": self._embedder.base_url,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddingFunction:
        OpenAIEmbeddingFunction.validate_config(config)
        return OpenAIEmbeddingFunction(config=config)

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        # Which model is right is the store's check (it names both models); here only the shape.
        model, dims = config.get("model"), config.get("dimensions")
        if not isinstance(model, str) or not model or not isinstance(dims, int) or dims < 1:
            raise EmbeddingModelMismatch(
                f"unreadable embedding configuration {config!r} for {OpenAIEmbeddingFunction.name()}"
            )

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        for key in ("model", "dimensions"):
            if old_config.get(key) != new_config.get(key):
                raise EmbeddingModelMismatch(
                    f"the collection was built with embedding model {old_config.get('model')!r} "
                    f"({old_config.get('dimensions')} dims), not {new_config.get('model')!r} "
                    f"({new_config.get('dimensions')} dims); re-index the articles"
                )

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]
