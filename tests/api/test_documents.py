"""/v1/documents: ingest (JSON and upload), list, get, delete, against real Chroma and MiniLM."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.desk import Factdesk
from tests.samples import (
    HTML_ARTICLE,
    MARKDOWN_ARTICLE,
    SEED_AUTHOR,
    SEED_ID,
    SEED_TITLE,
    TEXT_ARTICLE,
    chunks_in_chroma,
    lexical_ids_of,
    long_article,
)

pytestmark = pytest.mark.integration


def assert_offsets_match(desk: Factdesk, document_id: str, text: str) -> None:
    """Every chunk Chroma holds for the document is the stored text at its offsets."""
    stored = chunks_in_chroma(desk, document_id)
    assert stored, f"no chunks in Chroma for {document_id}"
    for s in stored:
        assert text[s.chunk.start : s.chunk.end] == s.chunk.text
    assert [s.chunk.index for s in stored] == list(range(len(stored)))


@pytest.mark.parametrize(
    ("fmt", "raw", "title", "author"),
    [
        ("text", TEXT_ARTICLE, "Orchard Growers Report Record Apple Harvest", None),
        ("markdown", MARKDOWN_ARTICLE, "Harbour Bridge Reopens After Repairs", "Dana Whitfield"),
        ("html", HTML_ARTICLE, "Lighthouse Museum Opens in Carrow Bay", "Tomas Rook"),
    ],
)
def test_ingest_each_format_then_again_unchanged(
    client: TestClient, desk: Factdesk, fmt: str, raw: str, title: str, author: str | None
) -> None:
    doc_id = f"ingest-{fmt}"
    created = client.post("/v1/documents", json={"text": raw, "format": fmt, "id": doc_id})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["id"] == doc_id
    assert body["title"] == title
    assert body["status"] == "created"
    assert body["chunks"] >= 1
    chunk_ids = {s.chunk.id for s in chunks_in_chroma(desk, doc_id)}
    assert len(chunk_ids) == body["chunks"]
    total_chunks = desk.store.chunks.count()

    got = client.get(f"/v1/documents/{doc_id}").json()
    assert got["title"] == title
    assert got["author"] == author
    assert got["format"] == fmt
    assert got["chunks"] == body["chunks"]
    assert "<" not in got["text"] and "---" not in got["text"]  # markup is not stored text
    assert_offsets_match(desk, doc_id, got["text"])

    again = client.post("/v1/documents", json={"text": raw, "format": fmt, "id": doc_id})
    assert again.status_code == 200
    assert again.json() == {**body, "status": "unchanged"}
    assert desk.store.chunks.count() == total_chunks
    assert {s.chunk.id for s in chunks_in_chroma(desk, doc_id)} == chunk_ids


def test_ingest_without_id_or_format_derives_both(client: TestClient, desk: Factdesk) -> None:
    raw = MARKDOWN_ARTICLE.replace("Harbour Bridge", "Harbour Tunnel")
    first = client.post("/v1/documents", json={"text": raw}).json()
    assert re.fullmatch(r"doc-[0-9a-f]{16}", first["id"])
    assert first["status"] == "created"
    assert client.get(f"/v1/documents/{first['id']}").json()["format"] == "markdown"
    # The derived id depends on the content alone, so posting it again finds the same record.
    second = client.post("/v1/documents", json={"text": raw}).json()
    assert second == {**first, "status": "unchanged"}


def test_update_replaces_old_chunks_in_chroma_and_lexical_index(
    client: TestClient, desk: Factdesk
) -> None:
    doc_id = "council-debate"
    old = client.post("/v1/documents", json={"text": long_article("zeppelin"), "id": doc_id})
    assert old.json()["status"] == "created"
    old_ids = {s.chunk.id for s in chunks_in_chroma(desk, doc_id)}
    assert len(old_ids) > 1
    assert any(cid.startswith(f"{doc_id}:") for cid, _ in desk.lexical.search("zeppelin", 50))

    new = client.post("/v1/documents", json={"text": long_article("hovercraft"), "id": doc_id})
    assert new.status_code == 200
    assert new.json()["id"] == doc_id
    assert new.json()["status"] == "updated"

    stored = chunks_in_chroma(desk, doc_id)
    new_ids = {s.chunk.id for s in stored}
    assert len(new_ids) == new.json()["chunks"]
    assert not new_ids & old_ids
    assert not desk.store.chunks.get(ids=sorted(old_ids))["ids"]
    assert len({s.version for s in stored}) == 1  # the new version only
    assert all("zeppelin" not in s.chunk.text for s in stored)

    assert lexical_ids_of(desk, doc_id) == new_ids
    assert not [cid for cid, _ in desk.lexical.search("zeppelin", 50)
                if cid.startswith(f"{doc_id}:")]

    text = client.get(f"/v1/documents/{doc_id}").json()["text"]
    assert "zeppelin" not in text and "hovercraft" in text
    assert_offsets_match(desk, doc_id, text)

    answer = client.post(
        "/v1/ask", json={"question": "How would the zeppelin be paid for?",
                         "document_ids": [doc_id]}
    ).json()
    assert all("zeppelin" not in c["quote"] for c in answer["citations"])
    assert all(p["chunk_id"] in new_ids for p in answer["passages"])
    for c in answer["citations"]:
        assert text[c["start"] : c["end"]] == c["quote"]


@pytest.mark.parametrize(
    ("filename", "content", "fmt", "title"),
    [
        ("harbour-bridge.md", MARKDOWN_ARTICLE, "markdown", "Harbour Bridge Reopens After Repairs"),
        ("lighthouse.html", HTML_ARTICLE, "html", "Lighthouse Museum Opens in Carrow Bay"),
    ],
)
def test_upload_file(
    client: TestClient, desk: Factdesk, filename: str, content: str, fmt: str, title: str
) -> None:
    doc_id = f"upload-{fmt}"
    response = client.post(
        "/v1/documents/upload",
        files={"file": (filename, content.encode("utf-8"), "application/octet-stream")},
        data={"id": doc_id, "source": "Test Gazette", "published": "April 30, 2025"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"id": doc_id, "title": title, "chunks": body["chunks"], "status": "created"}
    got = client.get(f"/v1/documents/{doc_id}").json()
    assert got["format"] == fmt  # from the file extension
    assert got["source"] == "Test Gazette"
    assert got["published"] == "2025-04-30"  # explicit metadata wins over the file's own
    assert_offsets_match(desk, doc_id, got["text"])


def test_upload_with_a_format_alias_records_the_canonical_format(client: TestClient) -> None:
    response = client.post(
        "/v1/documents/upload",
        files={"file": ("notes.txt", MARKDOWN_ARTICLE.encode("utf-8"), "text/plain")},
        data={"id": "upload-alias", "format": "md"},  # "md" names markdown
    )
    assert response.status_code == 200, response.text
    assert client.get("/v1/documents/upload-alias").json()["format"] == "markdown"


def test_list_documents(client: TestClient, desk: Factdesk) -> None:
    client.post("/v1/documents", json={"text": TEXT_ARTICLE, "id": "listed-article"})
    response = client.get("/v1/documents")
    assert response.status_code == 200
    body = response.json()
    ids = [d["id"] for d in body["documents"]]
    assert body["total"] == len(ids) == desk.store.documents.count()
    assert {SEED_ID, "listed-article"} <= set(ids)
    assert ids == sorted(ids)
    for summary in body["documents"]:
        assert "text" not in summary
        assert summary["chunks"] >= 1
        assert summary["title"]


def test_seed_article_metadata_and_clean_text(client: TestClient, desk: Factdesk) -> None:
    response = client.get(f"/v1/documents/{SEED_ID}")
    assert response.status_code == 200
    seed = response.json()
    assert seed["title"] == SEED_TITLE
    assert seed["author"] == SEED_AUTHOR
    text = seed["text"]
    assert seed["chars"] == len(text)
    assert "Updated:" not in text
    assert "UK-based journalist" not in text  # the author bio
    assert not re.search(r"^Chris Summers$", text, re.MULTILINE)  # the byline lines
    assert "including 600 deaths" in text
    assert_offsets_match(desk, SEED_ID, text)


def test_every_stored_chunk_matches_its_offsets(client: TestClient, desk: Factdesk) -> None:
    for summary in client.get("/v1/documents").json()["documents"]:
        text = client.get(f"/v1/documents/{summary['id']}").json()["text"]
        assert_offsets_match(desk, summary["id"], text)
        assert len(chunks_in_chroma(desk, summary["id"])) == summary["chunks"]


def test_delete_removes_document_chunks_and_lexical_entries(
    client: TestClient, desk: Factdesk
) -> None:
    doc_id = "to-delete"
    client.post("/v1/documents", json={"text": long_article("funicular", 4), "id": doc_id})
    assert chunks_in_chroma(desk, doc_id) and lexical_ids_of(desk, doc_id)
    documents_before = desk.store.documents.count()

    response = client.delete(f"/v1/documents/{doc_id}")
    assert response.status_code == 200
    assert response.json() == {"id": doc_id, "status": "deleted"}

    assert desk.store.documents.count() == documents_before - 1
    assert chunks_in_chroma(desk, doc_id) == []
    assert lexical_ids_of(desk, doc_id) == set()
    assert not [cid for cid, _ in desk.lexical.search("funicular", 50)
                if cid.startswith(f"{doc_id}:")]
    assert doc_id not in [d["id"] for d in client.get("/v1/documents").json()["documents"]]

    gone = client.get(f"/v1/documents/{doc_id}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "document_not_found"
    assert doc_id in gone.json()["error"]["message"]
    assert client.delete(f"/v1/documents/{doc_id}").status_code == 404
