"""The embedding backend named by ``FACTDESK_EMBEDDING_BACKEND``, and its Chroma function.

Importing this module registers both embedding functions with Chroma, so a store built with
either backend can be reopened (and refused, when it was built with another model).
"""

from __future__ import annotations

from chromadb.api.types import Documents, EmbeddingFunction

from service.config import Settings
from service.embed.minilm import MiniLMEmbedder, MiniLMEmbeddingFunction, get_embedder
from service.embed.openai_compatible import OpenAIEmbedder, OpenAIEmbeddingFunction

Embedder = MiniLMEmbedder | OpenAIEmbedder


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedding_backend == "openai":
        return OpenAIEmbedder.from_settings(settings)
    return get_embedder()  # one MiniLM per process: loading it costs more than a desk


def make_embedding_function(embedder: Embedder) -> EmbeddingFunction[Documents]:
    if isinstance(embedder, OpenAIEmbedder):
        return OpenAIEmbeddingFunction(embedder)
    return MiniLMEmbeddingFunction(embedder)
