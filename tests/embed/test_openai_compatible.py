"""Embeddings through a real OpenAI-compatible server: llama.cpp's /v1/embeddings on SmolLM2-135M.

SmolLM2 is a chat model and its embeddings are poor; these tests check factdesk's contract
with any such server (normalised vectors of one size, exact citations, a store that refuses
another model, typed errors), not retrieval quality.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.api.errors import status_of
from service.config import Settings
from service.embed import OpenAIEmbedder, OpenAIEmbeddingFunction, make_embedder
from service.errors import EmbeddingModelMismatch, EmbeddingTimeout, EmbeddingUnavailable
from tests.llm.servers import LlamaServer, free_port, model_file, require_llama_cpp
from tests.samples import SEED_ID, SEED_QUESTION, SEEDS_DIR

if TYPE_CHECKING:
    from service.desk import Factdesk

pytestmark = pytest.mark.integration

REMOTE_MODEL = "smollm2-135m-instruct"
# The GGUF declares no pooling, so llama.cpp would return one vector per token; mean pooling
# gives one vector per input, as OpenAI's endpoint does. One thread: with the suite (or the
# LLM tests' server) busy on the other core, two threads waiting on each other were ~10x slower.
EMBEDDING_ARGS = ("--embedding", "true", "--kv_overrides", "llama.pooling_type=int:1",
                  "--n_threads", "1", "--n_threads_batch", "1")


@pytest.fixture(scope="module")
def embedding_server() -> Iterator[LlamaServer]:
    require_llama_cpp()
    server = LlamaServer(model_file(), extra_args=EMBEDDING_ARGS)
    yield server
    server.stop()


def openai_settings(data_dir: Path, base_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir, "seeds_dir": SEEDS_DIR, "llm_model": None,
        "embedding_backend": "openai", "embedding_model": REMOTE_MODEL,
        "embedding_base_url": base_url, "llm_timeout": 60.0, "llm_max_retries": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def openai_desk(
    tmp_path_factory: pytest.TempPathFactory, embedding_server: LlamaServer
) -> Factdesk:
    from service.desk import Factdesk

    desk = Factdesk(openai_settings(tmp_path_factory.mktemp("openai") / "data",
                                    embedding_server.url))
    desk.ingest_seeds()
    return desk


def test_vectors_are_normalised_with_a_stable_dimension(embedding_server: LlamaServer) -> None:
    embedder = OpenAIEmbedder(REMOTE_MODEL, base_url=embedding_server.url, max_retries=0,
                              batch_size=2)
    texts = ["North Korean troops were killed.", "", "The weather was mild.", "Seoul", "x"]
    vectors = embedder.embed(texts)  # three requests of at most two inputs
    dims = embedder.dimensions
    assert vectors.shape == (len(texts), dims) and dims > 0
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Same dimension and (nearly) the same vector whatever the batch around it.
    again = embedder.embed_cached(["The weather was mild."])
    assert again.shape == (1, dims)
    assert float(again[0] @ vectors[2]) > 0.999
    assert embedder.embed([]).shape == (0, dims)
    # Chunk sizing keeps the local MiniLM tokenizer.
    assert embedder.count_tokens_batch(texts) == [embedder.count_tokens(t) for t in texts]


def test_desk_with_the_openai_backend_answers_with_exact_citations(openai_desk: Factdesk) -> None:
    assert openai_desk.counts()[0] == 1
    meta = openai_desk.store.chunks.metadata or {}
    assert meta["embedding_function"] == OpenAIEmbeddingFunction.name()
    assert meta["embedding_model"] == REMOTE_MODEL
    assert meta["embedding_dimensions"] == openai_desk.embedder.dimensions

    answer = openai_desk.ask(SEED_QUESTION, top_k=3, mode="offline")  # fewer to embed
    assert answer.passages
    text = openai_desk.get(SEED_ID).text
    for passage in answer.passages:
        assert text[passage.chunk.start : passage.chunk.end] == passage.chunk.text
    # Citations may be none (abstaining is allowed); those given must be exact.
    citations = [*answer.citations, *(c for s in answer.sentences for c in s.citations)]
    for citation in citations:
        assert citation.document_id == SEED_ID
        assert text[citation.start : citation.end] == citation.quote


def test_the_store_reopens_with_the_same_model_and_refuses_another(
    openai_desk: Factdesk, embedding_server: LlamaServer
) -> None:
    from service.desk import Factdesk

    settings = openai_desk.settings
    reopened = Factdesk(settings.model_copy(update={"embedding_dimensions": None}))
    assert reopened.counts() == openai_desk.counts()

    with pytest.raises(EmbeddingModelMismatch) as raised:
        Factdesk(Settings(data_dir=settings.data_dir, seeds_dir=SEEDS_DIR, llm_model=None))
    message = str(raised.value)
    assert REMOTE_MODEL in message and "all-MiniLM-L6-v2" in message

    other = settings.model_copy(update={"embedding_model": "another-remote-model"})
    with pytest.raises(EmbeddingModelMismatch) as raised:
        Factdesk(other)
    message = str(raised.value)
    assert REMOTE_MODEL in message and "another-remote-model" in message


def test_a_minilm_store_refuses_the_openai_backend(
    tmp_path: Path, embedding_server: LlamaServer
) -> None:
    from service.desk import Factdesk

    Factdesk(Settings(data_dir=tmp_path / "data", llm_model=None))
    with pytest.raises(EmbeddingModelMismatch) as raised:
        Factdesk(openai_settings(tmp_path / "data", embedding_server.url))
    message = str(raised.value)
    assert REMOTE_MODEL in message and "all-MiniLM-L6-v2" in message


def test_a_server_that_is_down_gives_a_typed_error(tmp_path: Path) -> None:
    from service.api.app import create_app
    from service.desk import Factdesk

    down = f"http://127.0.0.1:{free_port()}/v1"
    # Rebuilding the function from a stored config makes no call, so it works while down.
    config = {"model": REMOTE_MODEL, "dimensions": 576, "base_url": down}
    assert OpenAIEmbeddingFunction.build_from_config(config).get_config() == config

    settings = openai_settings(tmp_path / "data", down, embedding_dimensions=576)
    embedder = make_embedder(settings)
    with pytest.raises(EmbeddingUnavailable) as raised:
        embedder.embed(["anything"])
    assert status_of(raised.value) == 503

    with TestClient(create_app(Factdesk(settings, embedder))) as client:
        response = client.post("/v1/documents", json={"text": "Some article text here."})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "embedding_unavailable"


def test_a_slow_server_gives_a_timeout(embedding_server: LlamaServer) -> None:
    embedder = OpenAIEmbedder(REMOTE_MODEL, base_url=embedding_server.url, max_retries=0,
                              timeout=0.001)
    with pytest.raises(EmbeddingTimeout) as raised:
        embedder.embed(["a text long enough to take more than a millisecond " * 4])
    assert status_of(raised.value) == 504
