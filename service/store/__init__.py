from service.store.chroma_store import ChromaStore, StoredChunk

__all__ = ["ChromaStore", "StoredChunk"]
