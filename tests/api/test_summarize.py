"""POST /v1/summarize: the contract, exact citations, several articles, a question, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.summarize.extractive import is_furniture
from tests.api.sse import parse_sse
from tests.conftest import make_settings
from tests.samples import SEED_ID, SEED_TITLE, TEXT_ARTICLE


def summarize(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/summarize", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_exact(client: TestClient, summary: dict[str, Any]) -> None:
    texts: dict[str, str] = {}
    for sentence in summary["sentences"]:
        assert sentence["supported"] and sentence["citations"]
        for c in sentence["citations"]:
            if c["document_id"] not in texts:
                texts[c["document_id"]] = client.get(f"/v1/documents/{c['document_id']}").json()[
                    "text"]
            assert texts[c["document_id"]][c["start"]:c["end"]] == c["quote"]


def test_one_article(client: TestClient) -> None:
    summary = summarize(client, document_id=SEED_ID, mode="offline")
    assert summary["mode"] == "offline" and summary["prompt"] is None
    assert summary["document_ids"] == [SEED_ID]
    assert len(summary["sentences"]) == 3  # the default length
    assert summary["summary"] == " ".join(s["text"] for s in summary["sentences"])
    assert_exact(client, summary)
    quotes = [s["citations"][0]["quote"] for s in summary["sentences"]]
    assert all(q == s["text"] for q, s in zip(quotes, summary["sentences"]))  # extractive
    assert SEED_TITLE not in quotes and not any(is_furniture(q) for q in quotes)
    starts = [s["citations"][0]["start"] for s in summary["sentences"]]
    assert starts == sorted(starts)  # in the article's order


def test_limits(client: TestClient) -> None:
    assert len(summarize(client, document_id=SEED_ID, max_sentences=1)["sentences"]) == 1
    assert len(summarize(client, document_id=SEED_ID, max_sentences=6)["sentences"]) == 6
    short = summarize(client, document_id=SEED_ID, max_words=60)
    assert len(short["summary"].split()) <= 60


def test_question_focus(client: TestClient) -> None:
    summary = summarize(client, question="What did Russia announce about a cease-fire?",
                        max_sentences=2)
    assert_exact(client, summary)
    assert any("cease-fire" in s["text"] or "truce" in s["text"] for s in summary["sentences"])


def test_streamed_summary_ends_in_the_same_json(client: TestClient) -> None:
    plain = summarize(client, document_id=SEED_ID)
    with client.stream("POST", "/v1/summarize",
                       json={"document_id": SEED_ID, "stream": True}) as response:
        assert response.status_code == 200
        events = parse_sse(response.iter_lines())
    assert [name for name, _ in events] == ["summary"]  # offline: nothing streams before it
    assert events[-1][1] == plain


def test_several_articles_cover_each(tmp_path: Path) -> None:
    from service.api.app import create_app
    from service.desk import Factdesk

    desk = Factdesk(make_settings(tmp_path / "data"))
    desk.ingest_seeds()
    desk.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    with TestClient(create_app(desk)) as client:
        summary = summarize(client, document_ids=["apple-harvest", SEED_ID], max_sentences=4)
        assert_exact(client, summary)
        cited = [s["citations"][0]["document_id"] for s in summary["sentences"]]
        assert set(cited) == {"apple-harvest", SEED_ID}
        assert cited == sorted(cited, key=["apple-harvest", SEED_ID].index)  # order given


@pytest.mark.parametrize("body, status, code", [
    ({"document_id": "no-such-doc"}, 404, "document_not_found"),
    ({"document_ids": [SEED_ID, "no-such-doc"]}, 404, "document_not_found"),
    ({"document_ids": []}, 422, "invalid_input"),
    ({"document_ids": [f"doc-{n}" for n in range(21)]}, 422, "invalid_input"),
    ({}, 422, "invalid_input"),
    ({"document_id": SEED_ID, "question": "Who?"}, 422, "invalid_input"),
    ({"document_id": SEED_ID, "max_sentences": 0}, 422, "invalid_input"),
    ({"document_id": SEED_ID, "max_sentences": 21}, 422, "invalid_input"),
    ({"document_id": SEED_ID, "max_words": 9}, 422, "invalid_input"),
    ({"document_id": SEED_ID, "mode": "poetry"}, 422, "invalid_request"),
    ({"question": "  "}, 422, "invalid_input"),
    ({"document_id": SEED_ID, "mode": "llm"}, 503, "llm_not_configured"),
])
def test_bad_input(client: TestClient, body: dict[str, Any], status: int, code: str) -> None:
    response = client.post("/v1/summarize", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_empty_store(tmp_path: Path) -> None:
    from service.api.app import create_app
    from service.desk import Factdesk

    with TestClient(create_app(Factdesk(make_settings(tmp_path / "data")))) as client:
        for body in ({"question": "What happened?"}, {"document_id": SEED_ID}):
            response = client.post("/v1/summarize", json=body)
            assert response.status_code == 409
            assert response.json()["error"]["code"] == "store_empty"
