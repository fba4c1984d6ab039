"""Sentence embeddings for chunks and questions."""

from service.embed.minilm import (
    DIMENSIONS,
    MAX_SEQ_TOKENS,
    MODEL_ID,
    MiniLMEmbedder,
    MiniLMEmbeddingFunction,
    get_embedder,
)

__all__ = [
    "DIMENSIONS",
    "MAX_SEQ_TOKENS",
    "MODEL_ID",
    "MiniLMEmbedder",
    "MiniLMEmbeddingFunction",
    "get_embedder",
]
