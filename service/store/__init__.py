from service.store.chroma_store import ChromaStore
from service.store.records import Change, RecordRow, StoreCheck, StoredChunk

__all__ = ["Change", "ChromaStore", "RecordRow", "StoreCheck", "StoredChunk"]
