from service.retrieve.hybrid import HybridRetriever, RetrievalMode
from service.retrieve.lexical import LexicalIndex
from service.retrieve.terms import lexical_terms

__all__ = ["HybridRetriever", "LexicalIndex", "RetrievalMode", "lexical_terms"]
