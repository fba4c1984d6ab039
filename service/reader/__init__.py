"""The trained extractive reader: answer spans and no-answer scores for retrieved passages."""

from service.reader.reader import Reader, ReaderPassage, ReaderSpan, Reading, shared_reader

__all__ = ["Reader", "ReaderPassage", "ReaderSpan", "Reading", "shared_reader"]
