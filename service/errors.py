"""Typed errors. The HTTP layer maps each to one status code in one place (service/api/errors.py)."""


class FactdeskError(Exception):
    """Base class: ``code`` is a stable machine-readable name, the message is for people."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(FactdeskError):
    code = "invalid_input"


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


class EmptyDocument(InvalidInput):
    code = "empty_document"


class DocumentNotFound(FactdeskError):
    code = "document_not_found"


class EmbeddingModelMismatch(FactdeskError):
    """The store was built with another embedding model than the one configured."""

    code = "embedding_model_mismatch"


class ModelFilesMissing(FactdeskError):
    code = "model_files_missing"
