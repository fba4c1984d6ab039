"""ChromaStore on a real embedded Chroma: persistence, the embedding-model guard, repair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from service.config import Settings
from service.desk import Factdesk
from service.embed.minilm import MiniLMEmbeddingFunction
from service.errors import EmbeddingModelMismatch
from service.store import ChromaStore
from tests.samples import (
    SEED_ID,
    SEED_QUESTION,
    TEXT_ARTICLE,
    chunks_in_chroma,
    lexical_ids_of,
    store_counts,
)

pytestmark = pytest.mark.integration


@register_embedding_function
class CharacterCountStandIn(EmbeddingFunction[Documents]):
    """A stand-in for another embedding model: 384 dims, but not MiniLM's vectors."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return [[float(len(text) % (i + 2)) for i in range(384)] for text in input]

    @staticmethod
    def name() -> str:
        return "factdesk-test-character-count"

    def get_config(self) -> dict[str, Any]:
        return {"model": "character-count", "dimensions": 384}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CharacterCountStandIn:
        return CharacterCountStandIn()


def test_reopening_the_data_dir_finds_the_same_documents_and_chunks(
    fresh_desk: Factdesk, settings: Settings
) -> None:
    fresh_desk.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    before = {a.id: a for a in fresh_desk.list()}
    chunks_before = {doc_id: chunks_in_chroma(fresh_desk, doc_id) for doc_id in before}
    lexical_before = fresh_desk.lexical.chunk_ids()

    reopened = Factdesk(settings)
    assert {a.id: a for a in reopened.list()} == before
    assert reopened.get(SEED_ID) == fresh_desk.get(SEED_ID)
    for doc_id, chunks in chunks_before.items():
        assert chunks_in_chroma(reopened, doc_id) == chunks
    assert reopened.lexical.chunk_ids() == lexical_before
    assert store_counts(reopened) == store_counts(fresh_desk)

    answer = reopened.ask(SEED_QUESTION, top_k=3)
    assert not answer.abstained
    text = reopened.get(SEED_ID).text
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


def other_model_collections(data_dir: Path, **create: Any) -> None:
    client = chromadb.PersistentClient(path=str(data_dir))
    for name in ("factdesk_documents", "factdesk_chunks"):
        client.create_collection(name, configuration={"hnsw": {"space": "cosine"}}, **create)


def test_collections_of_another_model_signature_are_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    other_model_collections(
        data_dir,
        embedding_function=MiniLMEmbeddingFunction(),
        metadata={"embedding_function": "factdesk-minilm-l6-v2",
                  "embedding_model": "other-model", "embedding_dimensions": 384},
    )
    client = chromadb.PersistentClient(path=str(data_dir))
    with pytest.raises(EmbeddingModelMismatch) as raised:
        ChromaStore(client, MiniLMEmbeddingFunction())
    message = str(raised.value)
    assert "other-model" in message and "all-MiniLM-L6-v2" in message
    assert "factdesk_documents" in message

    with pytest.raises(EmbeddingModelMismatch):
        Factdesk(Settings(data_dir=data_dir))


def test_collections_of_another_embedding_function_are_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    other_model_collections(
        data_dir,
        embedding_function=CharacterCountStandIn(),
        metadata={"embedding_function": CharacterCountStandIn.name(),
                  "embedding_model": "character-count", "embedding_dimensions": 384},
    )
    with pytest.raises(EmbeddingModelMismatch) as raised:
        Factdesk(Settings(data_dir=data_dir))
    message = str(raised.value)
    assert CharacterCountStandIn.name() in message and "all-MiniLM-L6-v2" in message
    assert "factdesk_documents" in message


def test_another_prefix_in_the_same_data_dir_is_a_separate_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    other_model_collections(data_dir, embedding_function=CharacterCountStandIn())
    desk = Factdesk(Settings(data_dir=data_dir, collection_prefix="fresh"))
    assert desk.is_empty()


def test_repair_removes_orphan_chunks(fresh_desk: Factdesk, settings: Settings) -> None:
    desk = fresh_desk
    current = {s.chunk.id for s in chunks_in_chroma(desk, SEED_ID)}
    counts = store_counts(desk)
    orphans = [
        # A version of the seed that no document record names (an interrupted update) ...
        (f"{SEED_ID}:0000000000000000:0", SEED_ID, "The ghost regiment lost 999 soldiers."),
        (f"{SEED_ID}:0000000000000000:1", SEED_ID, "Its 999 dead were never counted."),
        # ... and a document that has no record at all (an interrupted first ingest).
        ("ghost-doc:1111111111111111:0", "ghost-doc", "The ghost regiment lost 999 soldiers."),
    ]
    texts = [text for _, _, text in orphans]
    desk.store.chunks.upsert(
        ids=[cid for cid, _, _ in orphans],
        documents=texts,
        embeddings=desk.embedder.embed(texts).tolist(),
        metadatas=[
            {"document_id": doc_id, "version": cid.split(":")[1], "index": int(cid[-1]),
             "start": 0, "end": len(text)}
            for cid, doc_id, text in orphans
        ],
    )
    assert desk.store.chunks.count() == counts.chunks + 3

    # Readers trust only chunks of a document's current version, even before repair.
    reopened = Factdesk(settings)
    assert lexical_ids_of(reopened, SEED_ID) == current
    assert lexical_ids_of(reopened, "ghost-doc") == set()
    answer = reopened.ask("How many soldiers did the ghost regiment lose?")
    assert all(p.chunk.id in current for p in answer.passages)
    assert "999" not in answer.answer

    assert desk.store.repair() == {"stale_chunks_removed": 3, "incomplete_articles_removed": 0,
                                   "articles": 1}
    assert store_counts(desk) == counts
    assert {s.chunk.id for s in chunks_in_chroma(desk, SEED_ID)} == current
    assert chunks_in_chroma(desk, "ghost-doc") == []
    assert desk.store.repair() == {"stale_chunks_removed": 0, "incomplete_articles_removed": 0,
                                   "articles": 1}
