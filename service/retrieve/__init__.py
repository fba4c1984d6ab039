from service.retrieve.hybrid import HybridRetriever, RetrievalMode
from service.retrieve.lexical import LexicalIndex, lexical_terms

__all__ = ["HybridRetriever", "LexicalIndex", "RetrievalMode", "lexical_terms"]
