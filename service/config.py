"""All settings in one place, read from the environment (``FACTDESK_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACTDESK_", extra="ignore")

    data_dir: Path = Path("./data")
    # When set, Chroma's server (``chroma run``) is used instead of the embedded store.
    chroma_url: str | None = None
    collection_prefix: str = "factdesk"
    seeds_dir: Path = Path(__file__).resolve().parent.parent / "seeds"

    # Chunking, in tokens of the embedding model.
    chunk_tokens: int = Field(160, ge=16, le=256)
    chunk_overlap_tokens: int = Field(32, ge=0, le=128)

    # Embedding model runtime.
    embed_batch_size: int = Field(8, ge=1, le=512)  # measured: eval/benchmarks/embedding.py
    embed_threads: int = Field(0, ge=0, le=64)  # 0: let onnxruntime decide

    # Retrieval and question limits.
    default_top_k: int = Field(8, ge=1, le=50)
    max_top_k: int = 50
    max_question_chars: int = 1000
    max_document_chars: int = 2_000_000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
