from service.store.chroma_store import ChromaStore, StoreCheck, StoredChunk

__all__ = ["ChromaStore", "StoreCheck", "StoredChunk"]
