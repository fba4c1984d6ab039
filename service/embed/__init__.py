"""Sentence embeddings for chunks and questions."""

from service.embed.minilm import (
    DIMENSIONS,
    MAX_SEQ_TOKENS,
    MODEL_ID,
    MiniLMEmbedder,
    MiniLMEmbeddingFunction,
    get_embedder,
)
from service.embed.openai_compatible import OpenAIEmbedder, OpenAIEmbeddingFunction
from service.embed.select import Embedder, make_embedder, make_embedding_function

__all__ = [
    "DIMENSIONS",
    "MAX_SEQ_TOKENS",
    "MODEL_ID",
    "Embedder",
    "MiniLMEmbedder",
    "MiniLMEmbeddingFunction",
    "OpenAIEmbedder",
    "OpenAIEmbeddingFunction",
    "get_embedder",
    "make_embedder",
    "make_embedding_function",
]
