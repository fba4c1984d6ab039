"""POST /v1/documents/batch and `factdesk ingest` in batches: a result per article, several
articles per Chroma call, and nothing half stored when the store fails mid-batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.desk import Factdesk
from tests.api.keyed import app_client
from tests.samples import (
    HTML_ARTICLE,
    MARKDOWN_ARTICLE,
    SEED_ID,
    TEXT_ARTICLE,
    chunks_in_chroma,
    lexical_ids_of,
    long_article,
    store_counts,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def writer(fresh_desk: Factdesk) -> Iterator[TestClient]:
    with app_client(fresh_desk, max_batch_documents=6) as client:
        yield client


def test_a_batch_gives_each_article_its_result(writer: TestClient, fresh_desk: Factdesk) -> None:
    documents = [
        {"id": "apples", "text": TEXT_ARTICLE},
        {"id": "bridge", "text": MARKDOWN_ARTICLE, "format": "markdown"},
        {"id": "empty", "text": "   "},
        {"id": "bad id!", "text": TEXT_ARTICLE},
        {"id": "apples", "text": long_article("ferry", 3)},
        {"id": "museum", "text": HTML_ARTICLE, "format": "html"},
    ]
    reply = writer.post("/v1/documents/batch", json={"documents": documents})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert [r["status"] for r in body["results"]] == [
        "created", "created", "error", "error", "error", "created"]
    assert [r["index"] for r in body["results"]] == list(range(6))
    assert body["results"][2]["error"]["code"] == "empty_document"
    assert body["results"][3]["error"]["code"] == "invalid_input"
    assert "earlier in the batch" in body["results"][4]["error"]["message"]
    assert (body["created"], body["updated"], body["unchanged"], body["errors"]) == (3, 0, 0, 3)
    for result in body["results"]:
        if result["status"] == "created":
            stored = chunks_in_chroma(fresh_desk, result["id"])
            assert len(stored) == result["chunks"]
            assert lexical_ids_of(fresh_desk, result["id"]) == {s.chunk.id for s in stored}
    assert set(store_counts(fresh_desk).document_ids) == {SEED_ID, "apples", "bridge", "museum"}
    # The same articles again: unchanged; one with new text: updated, its old chunks gone.
    again = writer.post("/v1/documents/batch", json={"documents": [
        {"id": "apples", "text": TEXT_ARTICLE}, {"id": "bridge", "text": long_article("tram", 4)}]})
    assert [r["status"] for r in again.json()["results"]] == ["unchanged", "updated"]
    assert all("tram" in s.chunk.text for s in chunks_in_chroma(fresh_desk, "bridge"))
    answer = fresh_desk.ask("How many tonnes of apples did the Vellan Valley growers pick?",
                            document_ids=["apples"])
    assert "18,500" in answer.answer


def test_a_batch_over_the_limit_or_empty_is_refused(writer: TestClient,
                                                     fresh_desk: Factdesk) -> None:
    before = store_counts(fresh_desk)
    many = [{"id": f"a{n}", "text": TEXT_ARTICLE} for n in range(7)]
    refused = writer.post("/v1/documents/batch", json={"documents": many})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_input"
    assert "7 documents in one batch; the limit is 6" in refused.json()["error"]["message"]
    empty = writer.post("/v1/documents/batch", json={"documents": []})
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["message"]
    assert store_counts(fresh_desk) == before


def test_a_store_failure_mid_batch_leaves_the_store_as_it_was(
    fresh_desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injected (Chroma cannot be made to fail between two calls on demand): the upsert
    of the article records fails after every chunk was written."""
    fresh_desk.ingest(TEXT_ARTICLE, "text", document_id="apples")
    before = store_counts(fresh_desk)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected: the store went away")

    monkeypatch.setattr(fresh_desk.store.documents, "upsert", fail)
    with app_client(fresh_desk) as client, pytest.raises(RuntimeError, match="injected"):
        client.post("/v1/documents/batch", json={"documents": [
            {"id": "apples", "text": long_article("ferry", 3)},
            {"id": "bridge", "text": MARKDOWN_ARTICLE}]})
    monkeypatch.undo()
    assert store_counts(fresh_desk) == before
    assert fresh_desk.doctor().problems == 0
    answer = fresh_desk.ask("How many tonnes of apples did the Vellan Valley growers pick?",
                            document_ids=["apples"])
    assert "18,500" in answer.answer


def test_cli_ingest_of_a_folder_in_batches(tmp_path: Path, fresh_desk: Factdesk) -> None:
    from service.ingest_files import BatchSender, find_files, ingest_files, pending_files

    folder = tmp_path / "articles"
    folder.mkdir()
    for n, topic in enumerate(["tramway", "ferry", "stadium", "library", "harbour"]):
        (folder / f"{topic}.txt").write_text(long_article(topic, 2 + n))
    (folder / "notes.json").write_text("{}")  # not an article: left out
    (folder / "broken.txt").write_bytes(b"\xff\xfe\x00bad")
    files = find_files([folder])
    assert [f.name for f in files] == ["broken.txt", "ferry.txt", "harbour.txt", "library.txt",
                                       "stadium.txt", "tramway.txt"]
    calls: list[int] = []
    put = fresh_desk.store.put_articles
    fresh_desk.store.put_articles = lambda rows: calls.append(len(rows)) or put(rows)  # type: ignore[method-assign]
    failed = ingest_files(pending_files(files), BatchSender(desk=fresh_desk), batch=4)
    assert failed == 1
    assert calls == [3, 2]  # several articles per store write: 4 files, one of them broken
    assert {"tramway", "ferry", "stadium", "library", "harbour"} <= set(
        store_counts(fresh_desk).document_ids)
