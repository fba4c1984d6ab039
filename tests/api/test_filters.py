"""Dates and sources over HTTP: filters on ask and summarize, dated citations, as_of, and
clear 4xx errors for bad filters that leave the store as it was."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings

STORM_14 = ("Storm Ingrid forced authorities to evacuate 1,200 homes along the Marrow coast on "
            "Tuesday. The regional governor said emergency shelters had been opened.")
STORM_17 = ("The number of homes evacuated because of Storm Ingrid has risen to 3,450, "
            "officials said on Friday, after the river Lenne burst its banks.")
QUESTION = "How many homes have been evacuated because of Storm Ingrid?"


@pytest.fixture(scope="module")
def dated_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from service.api.app import create_app
    from service.desk import Factdesk

    desk = Factdesk(make_settings(tmp_path_factory.mktemp("filters") / "data"))
    with TestClient(create_app(desk)) as client:
        for doc_id, text, published, source in [
            ("storm-14", STORM_14, "2026-10-14", "Coastal Herald"),
            ("storm-17", STORM_17, "2026-10-17", "Marrow Daily"),
        ]:
            reply = client.post("/v1/documents", json={
                "id": doc_id, "text": text, "published": published, "source": source,
                "url": f"https://news.example/{doc_id}", "title": f"Storm Ingrid {doc_id}"})
            assert reply.status_code == 200, reply.text
        yield client


def ask(client: TestClient, **body: object) -> dict:
    reply = client.post("/v1/ask", json={"question": QUESTION, "mode": "offline", **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_citations_and_passages_carry_their_articles_date_source_and_address(
        dated_client: TestClient) -> None:
    answer = ask(dated_client)
    assert "3,450" in answer["answer"]
    assert answer["as_of"] == "2026-10-17"
    cited = answer["citations"][0]
    assert (cited["published"], cited["source"], cited["url"]) == (
        "2026-10-17", "Marrow Daily", "https://news.example/storm-17")
    assert [c["document_id"] for c in answer["supersedes"]] == ["storm-14"]
    assert answer["supersedes"][0]["published"] == "2026-10-14"
    for passage in answer["passages"]:
        assert passage["published"] in {"2026-10-14", "2026-10-17"}


@pytest.mark.parametrize(("body", "kept"), [
    ({"as_of": "2026-10-15"}, {"storm-14"}),
    ({"published_after": "2026-10-15"}, {"storm-17"}),
    ({"published_before": "2026-10-14"}, {"storm-14"}),
    ({"sources": ["coastal herald"]}, {"storm-14"}),
    ({"sources": ["Marrow Daily"], "document_ids": ["storm-17", "storm-14"]}, {"storm-17"}),
])
def test_filters_keep_to_the_articles_they_admit(dated_client: TestClient, body: dict,
                                                 kept: set[str]) -> None:
    answer = ask(dated_client, **body)
    assert {p["document_id"] for p in answer["passages"]} == kept
    assert {c["document_id"] for c in answer["citations"]} <= kept


def test_a_filter_that_admits_nothing_says_so(dated_client: TestClient) -> None:
    answer = ask(dated_client, published_after="2027-01-01")
    assert answer["abstained"] and answer["citations"] == [] and answer["passages"] == []
    assert "No stored article matches the filter (published on or after 2027-01-01)" in (
        answer["answer"])


@pytest.mark.parametrize(("body", "named"), [
    ({"published_after": "last week"}, "published_after"),
    ({"as_of": "2026-13-01"}, "as_of"),
    ({"published_after": "2026-10-17", "published_before": "2026-10-14"}, "published_after"),
    ({"sources": []}, "sources"),
    ({"sources": "Marrow Daily"}, "sources"),
])
def test_bad_filters_get_a_4xx_naming_the_field(dated_client: TestClient, body: dict,
                                                named: str) -> None:
    before = dated_client.get("/v1/documents").json()
    for path, payload in [("/v1/ask", {"question": QUESTION, **body}),
                          ("/v1/summarize", {"question": QUESTION, **body})]:
        reply = dated_client.post(path, json=payload)
        assert reply.status_code == 422, reply.text
        assert named in reply.json()["error"]["message"]
    assert dated_client.get("/v1/documents").json() == before


def test_a_summary_of_what_a_filter_admits(dated_client: TestClient) -> None:
    reply = dated_client.post("/v1/summarize", json={"published_after": "2026-10-16",
                                                     "mode": "offline"})
    assert reply.status_code == 200, reply.text
    summary = reply.json()
    assert summary["document_ids"] == ["storm-17"]
    cited = {c["document_id"] for s in summary["sentences"] for c in s["citations"]}
    assert cited == {"storm-17"}
    nothing = dated_client.post("/v1/summarize", json={"sources": ["Nobody"], "mode": "offline"})
    assert nothing.status_code == 200
    assert nothing.json()["summary"].startswith("No stored article matches the filter")
    neither = dated_client.post("/v1/summarize", json={"mode": "offline"})
    assert neither.status_code == 422
