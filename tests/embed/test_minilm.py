"""The MiniLM embedder and its Chroma embedding function, run on the real model."""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from tokenizers import Tokenizer

from service.embed.minilm import (
    DIMENSIONS,
    MiniLMEmbedder,
    MiniLMEmbeddingFunction,
    get_embedder,
    place_files_for_chroma_default,
    tokenizer_dir,
)

pytestmark = pytest.mark.integration

QUERY = "How many soldiers were killed in the fighting?"
PARAPHRASE = "What number of troops died in the battle?"
UNRELATED = "The recipe calls for two cups of flour and a pinch of salt."


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    # Small batches so the padding test spans several batches.
    return MiniLMEmbedder(batch_size=4)


def long_text(words: int) -> str:
    return " ".join(f"word{i % 50} is part of a long article" for i in range(words // 7))


def test_shape_dtype_and_unit_norm(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed([QUERY, PARAPHRASE, UNRELATED])
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_no_texts_gives_empty_matrix(embedder: MiniLMEmbedder) -> None:
    assert embedder.embed([]).shape == (0, DIMENSIONS)


def test_paraphrase_is_closer_than_unrelated(embedder: MiniLMEmbedder) -> None:
    query, paraphrase, unrelated = embedder.embed([QUERY, PARAPHRASE, UNRELATED])
    assert float(query @ paraphrase) > float(query @ unrelated) + 0.3


def test_padding_and_batching_do_not_change_vectors(embedder: MiniLMEmbedder) -> None:
    alone = embedder.embed([QUERY])[0]
    texts = [long_text(200), QUERY, long_text(120), "short", long_text(300), UNRELATED]
    batched = embedder.embed(texts)
    np.testing.assert_allclose(batched[1], alone, atol=1e-4)
    # Input order survives the length sort.
    np.testing.assert_allclose(batched[5], embedder.embed([UNRELATED])[0], atol=1e-4)
    np.testing.assert_allclose(batched[3], embedder.embed(["short"])[0], atol=1e-4)


def test_long_text_is_truncated_to_max_tokens(embedder: MiniLMEmbedder) -> None:
    text = long_text(1500)
    assert embedder.count_tokens(text) > 2 * embedder.max_tokens
    # Only the first 254 tokens (plus [CLS]/[SEP]) count, so appending text changes nothing.
    full, extended = embedder.embed([text, text + " and then something else entirely"])
    np.testing.assert_allclose(full, extended, atol=1e-5)


def test_empty_string_gives_a_unit_vector(embedder: MiniLMEmbedder) -> None:
    vector = embedder.embed(["", QUERY])[0]
    assert np.isfinite(vector).all()
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_count_tokens_matches_the_tokenizer(embedder: MiniLMEmbedder) -> None:
    reference = Tokenizer.from_file(str(tokenizer_dir() / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    texts = ["", "Hello, world!", "Kim Jong Un met Putin in Pyongyang.", long_text(800)]
    expected = [len(reference.encode(t, add_special_tokens=False).ids) for t in texts]
    assert [embedder.count_tokens(t) for t in texts] == expected
    assert embedder.count_tokens_batch(texts) == expected
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens_batch([]) == []


def test_shared_instance_is_reused() -> None:
    assert get_embedder() is get_embedder()


def test_matches_chromas_stock_default_function(
    embedder: MiniLMEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    monkeypatch.setenv("HOME", str(tmp_path))
    place_files_for_chroma_default(tmp_path)
    # Chroma fixes its download path from HOME when it is imported.
    monkeypatch.setattr(
        ONNXMiniLM_L6_V2,
        "DOWNLOAD_PATH",
        tmp_path / ".cache" / "chroma" / "onnx_models" / "all-MiniLM-L6-v2",
    )
    texts = [QUERY, PARAPHRASE, UNRELATED, long_text(150), ""]
    stock = np.array(DefaultEmbeddingFunction()(texts))
    ours = embedder.embed(texts)
    cosines = np.sum(stock * ours, axis=1) / np.linalg.norm(stock, axis=1)
    assert cosines.min() > 0.999


def test_chroma_collection_persists_and_reopens_with_our_function(tmp_path: Path) -> None:
    docs = [
        "North Korea has suffered 4,700 casualties in the war in Ukraine.",
        "The central bank raised interest rates by a quarter point.",
        "The football club signed a new striker from Brazil.",
    ]
    client = chromadb.PersistentClient(path=str(tmp_path))
    collection = client.create_collection("articles", embedding_function=MiniLMEmbeddingFunction())
    collection.add(ids=["war", "bank", "football"], documents=docs)
    hits = collection.query(query_texts=["How many North Korean casualties?"], n_results=1)
    assert hits["ids"][0] == ["war"]
    assert collection.configuration["hnsw"]["space"] == "cosine"

    reopened_client = chromadb.PersistentClient(path=str(tmp_path))
    for reopened in (
        reopened_client.get_collection("articles", embedding_function=MiniLMEmbeddingFunction()),
        reopened_client.get_collection("articles"),
    ):
        function = reopened.configuration["embedding_function"]
        assert function is not None
        assert function.name() == "factdesk-minilm-l6-v2"
        assert function.get_config() == {"model": "all-MiniLM-L6-v2", "dimensions": 384,
                                         "weights": "int8"}
        hits = reopened.query(query_texts=["interest rates"], n_results=1)
        assert hits["ids"][0] == ["bank"]


def test_config_from_another_model_is_refused() -> None:
    from service.errors import EmbeddingModelMismatch

    with pytest.raises(EmbeddingModelMismatch, match="Re-index"):
        MiniLMEmbeddingFunction.build_from_config(
            {"model": "all-mpnet-base-v2", "dimensions": 768, "weights": "fp32"}
        )


def test_concurrent_callers_get_the_same_vectors(embedder: MiniLMEmbedder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [[QUERY, long_text(100)], [UNRELATED], [long_text(300), PARAPHRASE, "x"]] * 3
    expected = [embedder.embed(batch) for batch in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(embedder.embed, texts))
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_missing_tokenizer_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path) -> None:
    from service.embed import minilm
    from service.errors import ModelFilesMissing

    monkeypatch.setattr(minilm, "TOKENIZER_DIR", tmp_path / "tokenizer")
    with pytest.raises(ModelFilesMissing, match="reinstall factdesk"):
        MiniLMEmbedder()


def test_embed_cached_equals_embed_and_remembers() -> None:
    embedder = get_embedder()
    texts = ["A cached sentence about the briefing.", "Another one.", "A cached sentence about the briefing."]
    first = embedder.embed_cached(texts)
    assert np.allclose(first, embedder.embed(texts), atol=1e-5)
    assert "Another one." in embedder._cache  # remembered for the next call
    assert np.array_equal(embedder.embed_cached(["Another one."])[0], first[1])
