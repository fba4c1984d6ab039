from service.chunk.chunker import chunk_article

__all__ = ["chunk_article"]
