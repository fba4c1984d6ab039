from service.store.chroma_store import ChromaStore
from service.store.records import Change, StoreCheck, StoredChunk

__all__ = ["Change", "ChromaStore", "StoreCheck", "StoredChunk"]
