"""All settings in one place, read from the environment (``FACTDESK_*``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The scopes an API key entry may name; a write key may also read.
API_KEY_SCOPES = {"read": "read", "write": "write", "read+write": "write", "all": "write"}


class Settings(BaseSettings):
    # populate_by_name: tests and code set ``openai_api_key=...`` although the environment
    # variable is the OpenAI client's own ``OPENAI_API_KEY``. hide_input_in_errors: a bad
    # setting's error must not print the API keys next to it.
    model_config = SettingsConfigDict(env_prefix="FACTDESK_", extra="ignore",
                                      populate_by_name=True, hide_input_in_errors=True)

    data_dir: Path = Path("./data")
    # When set, Chroma's server (``chroma run``) is used instead of the embedded store.
    chroma_url: str | None = None
    collection_prefix: str = "factdesk"
    # With Chroma's server, each question and summary first applies what other processes wrote
    # (service/sync.py); every this many seconds a background thread also re-reads every
    # article record, in case a writer died between its commit and its change record.
    full_sync_interval: float = Field(60.0, gt=0, le=86400)
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

    # The offline answerer: ``reader`` (the trained reader, service/reader/) or ``rules`` (the
    # earlier rule-based answerer, a baseline kept for comparison: the command line and the
    # eval tooling put service/evaluation/rules_answerer.py in the reader's place; a desk built
    # directly always answers with the reader). The reader reads the best
    # ``reader_passages`` of the retrieved passages (each costs about 25 ms on 2 cores) and
    # picks the span with the best margin over its passage's no-answer score, less
    # ``reader_rank_weight`` per place its passage stands below the first; an answer needs
    # that margin to reach ``reader_null_margin`` (unset: the margin calibrated with the model,
    # service/reader/model/calibration.json). Passages and rank weight were measured on the
    # seed, SQuAD open and RGB sets (eval/README.md).
    answerer: Literal["reader", "rules"] = "reader"
    reader_passages: int = Field(4, ge=1, le=50)
    reader_null_margin: float | None = None
    reader_rank_weight: float = Field(1.0, ge=0.0, le=100.0)
    reader_threads: int = Field(0, ge=0, le=64)  # 0: let onnxruntime decide
    # The confidence (a calibrated probability that the answer is right, from the reader's
    # answerability model) below which the offline answerer abstains; unset: the threshold
    # fitted with the model (service/reader/model/answerability.json). A request may set its own.
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)

    # Retrieval and question limits.
    default_top_k: int = Field(8, ge=1, le=50)
    max_top_k: int = 50
    max_question_chars: int = 1000
    max_document_chars: int = 2_000_000

    # Summaries: how many articles one request may name, and the bounds of its length.
    max_summary_documents: int = Field(20, ge=1, le=1000)
    summary_sentences: int = Field(3, ge=1, le=50)  # when neither limit is given
    max_summary_sentences: int = Field(20, ge=1, le=200)
    max_summary_words: int = Field(1000, ge=10, le=10000)
    max_document_ids: int = Field(100, ge=1)  # document_ids in one question
    max_batch_documents: int = Field(100, ge=1, le=10000)  # articles in one batch ingest

    # HTTP limits and access. Keys: comma-separated ``key:scope`` entries, scope ``read`` or
    # ``write`` (a write key may also read; ``all`` and ``read+write`` mean write). Unset: the
    # API is open. See service/api/auth.py.
    api_keys: SecretStr | None = None
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # any request body
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # the file of an upload
    # Requests per API key (per client address when no keys are set) in any 60 seconds; 0
    # turns the limit off (service/api/rate_limit.py). The counts live in this process, or with
    # ``redis_url`` (``redis://host:port/db``) in Redis, shared by every worker. With Redis
    # unreachable, ``open`` serves unlimited and ``closed`` refuses with 503.
    rate_limit_per_minute: int = Field(0, ge=0)
    redis_url: str | None = None
    rate_limit_fail: Literal["open", "closed"] = "open"

    # Cross-origin requests from browsers (CORS): the origins allowed (comma-separated, or
    # ``*``), off when unset; the methods and request headers they may use.
    cors_origins: str | None = None
    cors_methods: str = "GET,POST,PUT,DELETE"
    cors_headers: str = "Authorization,Content-Type,X-API-Key,X-Request-ID"

    # Logs: one JSON object per line, or plain text for people.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

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
    # Ask the server to report token usage at the end of a streamed answer (OpenAI's
    # ``stream_options``); turn off for a server that refuses the option.
    llm_stream_usage: bool = True
    prompts_dir: Path = Path(__file__).resolve().parent.parent / "prompts"

    @model_validator(mode="after")
    def _embedding_model_named(self) -> Settings:
        if self.embedding_backend == "openai" and not self.embedding_model:
            raise ValueError("FACTDESK_EMBEDDING_BACKEND=openai needs FACTDESK_EMBEDDING_MODEL "
                             "(the model name the embeddings server knows)")
        return self

    @model_validator(mode="after")
    def _api_keys_readable(self) -> Settings:
        self.api_key_entries()
        return self

    def api_key_entries(self) -> list[tuple[str, str]]:
        """(key, scope) pairs of FACTDESK_API_KEYS, scope ``read`` or ``write``. Errors name
        an entry by its position, never by its key."""
        if self.api_keys is None:
            return []
        entries: dict[str, str] = {}
        for n, entry in enumerate(self.api_keys.get_secret_value().split(","), 1):
            if not entry.strip():
                continue
            key, _, scope = entry.strip().rpartition(":")
            scope = API_KEY_SCOPES.get(scope.strip().lower(), "")
            if not key or not scope:
                raise ValueError(f"FACTDESK_API_KEYS entry {n} is not 'key:scope' with scope "
                                 "read, write, read+write or all")
            if any(c.isspace() for c in key):
                raise ValueError(f"FACTDESK_API_KEYS entry {n}: a key holds no whitespace")
            if entries.get(key, scope) != scope:
                raise ValueError(f"FACTDESK_API_KEYS entry {n} repeats a key with another scope")
            entries[key] = scope
        return list(entries.items())

    def cors_list(self, field: Literal["origins", "methods", "headers"]) -> list[str]:
        """A CORS setting as a list (empty when unset)."""
        value = getattr(self, f"cors_{field}") or ""
        return [item.strip() for item in value.split(",") if item.strip()]

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
