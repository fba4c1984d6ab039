from service.store.chroma_store import Change, ChromaStore, StoreCheck, StoredChunk

__all__ = ["Change", "ChromaStore", "StoreCheck", "StoredChunk"]
