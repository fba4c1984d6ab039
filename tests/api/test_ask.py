"""POST /v1/ask: the answer contract, checked span by span against the stored articles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.desk import Factdesk
from tests.samples import SEED_ID, SEED_QUESTION, TEXT_ARTICLE, UNANSWERABLE_QUESTION

pytestmark = pytest.mark.integration

OTHER_ID = "apple-harvest"


@pytest.fixture(scope="module", autouse=True)
def other_article(client: TestClient) -> None:
    """A small article unrelated to the seed, so retrieval has something to choose between."""
    response = client.post("/v1/documents", json={"text": TEXT_ARTICLE, "id": OTHER_ID})
    assert response.status_code == 200, response.text


def ask(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/ask", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_spans_are_exact(client: TestClient, answer: dict[str, Any]) -> None:
    """Every citation and passage is the stored text of its document at its offsets."""
    texts: dict[str, str] = {}

    def text_of(document_id: str) -> str:
        if document_id not in texts:
            response = client.get(f"/v1/documents/{document_id}")
            assert response.status_code == 200
            texts[document_id] = response.json()["text"]
        return texts[document_id]

    for c in answer["citations"]:
        assert set(c) == {"document_id", "title", "chunk_id", "start", "end", "quote",
                          "published", "source", "url", "stated"}
        assert 0 <= c["start"] < c["end"]
        assert text_of(c["document_id"])[c["start"] : c["end"]] == c["quote"]
        assert c["chunk_id"].startswith(f"{c['document_id']}:")
    for p in answer["passages"]:
        assert {"document_id", "title", "chunk_id", "start", "end", "text", "score"} <= set(p)
        assert isinstance(p["score"], float)
        assert text_of(p["document_id"])[p["start"] : p["end"]] == p["text"]
    assert len({p["chunk_id"] for p in answer["passages"]}) == len(answer["passages"])


@pytest.fixture(scope="module")
def seed_answer(client: TestClient) -> dict[str, Any]:
    return ask(client, question=SEED_QUESTION)


@pytest.fixture(scope="module")
def unanswerable_answer(client: TestClient) -> dict[str, Any]:
    return ask(client, question=UNANSWERABLE_QUESTION)


def test_seed_question_is_answered_with_exact_citations(
    client: TestClient, desk: Factdesk, seed_answer: dict[str, Any]
) -> None:
    answer = seed_answer
    assert answer["abstained"] is False
    assert "600" in answer["answer"]
    assert any("600" in c["quote"] for c in answer["citations"])
    assert answer["mode"] == "offline"
    assert 0.0 <= answer["confidence"] <= 1.0
    assert answer["citations"]
    assert answer["passages"]
    assert {c["document_id"] for c in answer["citations"]} == {SEED_ID}
    cited_chunks = {p["chunk_id"] for p in answer["passages"]}
    assert all(c["chunk_id"] in cited_chunks for c in answer["citations"])
    assert len(answer["passages"]) <= desk.settings.default_top_k
    assert_spans_are_exact(client, answer)


def test_question_about_another_article_cites_it(client: TestClient) -> None:
    answer = ask(client, question="How many tonnes of apples did the Vellan Valley growers pick?")
    assert answer["abstained"] is False
    assert "18,500" in answer["answer"]
    assert {c["document_id"] for c in answer["citations"]} == {OTHER_ID}
    assert_spans_are_exact(client, answer)


def test_unanswerable_question_abstains_without_citations(
    client: TestClient, unanswerable_answer: dict[str, Any]
) -> None:
    answer = unanswerable_answer
    assert answer["abstained"] is True
    assert answer["citations"] == []
    assert answer["answer"]
    assert 0.0 <= answer["confidence"] <= 1.0
    assert_spans_are_exact(client, answer)


def test_document_ids_restrict_retrieval(client: TestClient) -> None:
    answer = ask(client, question=SEED_QUESTION, document_ids=[OTHER_ID])
    assert all(c["document_id"] == OTHER_ID for c in answer["citations"])
    assert answer["passages"]
    assert all(p["document_id"] == OTHER_ID for p in answer["passages"])
    assert_spans_are_exact(client, answer)

    seed_only = ask(client, question=SEED_QUESTION, document_ids=[SEED_ID])
    assert all(p["document_id"] == SEED_ID for p in seed_only["passages"])
    assert seed_only["citations"]


@pytest.mark.parametrize("top_k", [1, 3])
def test_top_k_bounds_the_passages(client: TestClient, top_k: int) -> None:
    answer = ask(client, question=SEED_QUESTION, top_k=top_k)
    assert 1 <= len(answer["passages"]) <= top_k
    scores = [p["score"] for p in answer["passages"]]
    assert scores == sorted(scores, reverse=True)
    assert_spans_are_exact(client, answer)


def test_answers_do_not_change_the_store(client: TestClient, desk: Factdesk) -> None:
    before = (desk.store.documents.count(), desk.store.chunks.count(), len(desk.lexical))
    ask(client, question=UNANSWERABLE_QUESTION, top_k=2)
    assert (desk.store.documents.count(), desk.store.chunks.count(), len(desk.lexical)) == before
