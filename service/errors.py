"""Typed errors. The HTTP layer maps each to one status code in one place (service/api/errors.py)."""


class FactdeskError(Exception):
    """Base class: ``code`` is a stable machine-readable name, the message is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvariantBroken(RuntimeError):
    """A check of factdesk's own that cannot fail unless factdesk has a bug (a span that does
    not hold at its offsets, a stream that ends without its reply): a 500, logged."""


class InvalidInput(FactdeskError):
    code = "invalid_input"


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


class EmptyDocument(InvalidInput):
    code = "empty_document"


class UploadTooLarge(InvalidInput):
    """An uploaded file over FACTDESK_MAX_UPLOAD_BYTES."""

    code = "upload_too_large"


class DocumentNotFound(FactdeskError):
    code = "document_not_found"


class StoreEmpty(FactdeskError):
    """The request needs stored documents and there are none."""

    code = "store_empty"


class EmbeddingModelMismatch(FactdeskError):
    """The store was built with another embedding model than the one configured."""

    code = "embedding_model_mismatch"


class EmbeddingFailure(FactdeskError):
    """The remote embeddings server (FACTDESK_EMBEDDING_BACKEND=openai) gave no usable vectors."""

    code = "embedding_error"


class EmbeddingUnavailable(EmbeddingFailure):
    """Connection refused, or the server is busy (429, 503) after the client's retries."""

    code = "embedding_unavailable"


class EmbeddingTimeout(EmbeddingFailure):
    code = "embedding_timeout"


class ModelFilesMissing(FactdeskError):
    code = "model_files_missing"


class LLMNotConfigured(FactdeskError):
    """``mode: "llm"`` was asked for, but the settings that select an LLM are missing."""

    code = "llm_not_configured"


class LLMFailure(FactdeskError):
    """The LLM gave no usable answer. ``code`` doubles as the answer's ``fallback_reason``."""

    code = "llm_error"


class LLMTimeout(LLMFailure):
    code = "llm_timeout"


class LLMUnavailable(LLMFailure):
    """Connection refused, or the server is busy (429, 503) after the client's retries."""

    code = "llm_unavailable"


class LLMEmpty(LLMFailure):
    code = "llm_empty"


class NoSupportedSentence(LLMFailure):
    """The LLM answered, but no sentence of it is supported by the passages. Not an error to
    the caller: the offline answer is returned instead, with this as its fallback reason."""

    code = "no_supported_sentence"
