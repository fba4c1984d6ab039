"""All settings in one place, read from the environment (``FACTDESK_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # populate_by_name: tests and code set ``openai_api_key=...`` although the environment
    # variable is the OpenAI client's own ``OPENAI_API_KEY``.
    model_config = SettingsConfigDict(env_prefix="FACTDESK_", extra="ignore",
                                      populate_by_name=True)

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
    # ``openai``: any OpenAI-compatible /v1/embeddings server instead of the local MiniLM. It
    # uses the OPENAI_API_KEY and the LLM's timeout and retries; the base URL defaults to
    # OPENAI_BASE_URL. The dimensions, when unset, are learned from the first response.
    embedding_backend: Literal["minilm", "openai"] = "minilm"
    embedding_model: str | None = None
    embedding_base_url: str | None = None
    embedding_dimensions: int | None = Field(None, ge=1, le=65536)

    # Retrieval and question limits.
    default_top_k: int = Field(8, ge=1, le=50)
    max_top_k: int = 50
    max_question_chars: int = 1000
    max_document_chars: int = 2_000_000

    # The LLM, through any OpenAI-compatible server (OpenAI, llama.cpp, vLLM, Ollama). It is
    # configured when FACTDESK_LLM_MODEL is set and so is OPENAI_API_KEY or OPENAI_BASE_URL
    # (local servers need no key). The two OPENAI_* names are the openai client's own.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"))
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"))
    llm_model: str | None = None
    llm_timeout: float = Field(30.0, gt=0, le=600)  # seconds per request, and for a whole answer
    llm_max_retries: int = Field(2, ge=0, le=10)  # the openai client's retries (429, 5xx, connect)
    llm_max_tokens: int = Field(256, ge=16, le=4096)
    llm_temperature: float = Field(0.0, ge=0, le=2)
    llm_max_passages: int = Field(6, ge=1, le=50)  # numbered passages in the prompt
    llm_prompt: str = "answer"  # a prompt name from prompts/
    # What to do with an answer sentence no passage supports: show it flagged, or drop it.
    llm_unsupported: Literal["flag", "drop"] = "flag"
    prompts_dir: Path = Path(__file__).resolve().parent.parent / "prompts"

    @model_validator(mode="after")
    def _embedding_model_named(self) -> Settings:
        if self.embedding_backend == "openai" and not self.embedding_model:
            raise ValueError("FACTDESK_EMBEDDING_BACKEND=openai needs FACTDESK_EMBEDDING_MODEL "
                             "(the model name the embeddings server knows)")
        return self

    def llm_missing(self) -> list[str]:
        """The settings still needed before the LLM can be used (empty when configured)."""
        missing = []
        if not self.llm_model:
            missing.append("FACTDESK_LLM_MODEL")
        if self.openai_api_key is None and not self.openai_base_url:
            missing.append("OPENAI_API_KEY or OPENAI_BASE_URL")
        return missing

    @property
    def llm_configured(self) -> bool:
        return not self.llm_missing()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
