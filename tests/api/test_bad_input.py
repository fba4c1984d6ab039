"""Bad requests get a 4xx JSON error that names the problem, and leave the store as it was.

The last tests inject faults into the store's writes to check that a failed ingest keeps the
previous version of a document whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.desk import Factdesk
from tests.samples import (
    SEED_ID,
    SEED_QUESTION,
    TEXT_ARTICLE,
    StoreCounts,
    chunks_in_chroma,
    lexical_ids_of,
    long_article,
    pdf_article,
    scanned_pdf,
    store_counts,
)

pytestmark = pytest.mark.integration

MAX_QUESTION = 1000  # Settings.max_question_chars; checked against the desk below


def assert_error(response: Any, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"


@pytest.fixture(autouse=True)
def store_is_unchanged(desk: Factdesk) -> Iterator[None]:
    before = store_counts(desk)
    yield
    assert store_counts(desk) == before


def test_question_limit_matches_settings(desk: Factdesk) -> None:
    assert desk.settings.max_question_chars == MAX_QUESTION


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"question": ""}, 422, "invalid_input", ["question", "empty"]),
        ({"question": " \n\t "}, 422, "invalid_input", ["question", "empty"]),
        ({"question": "why " * 300}, 422, "invalid_input", ["question", str(MAX_QUESTION)]),
        ({"question": SEED_QUESTION, "top_k": 0}, 422, "invalid_input", ["top_k", "50", "0"]),
        ({"question": SEED_QUESTION, "top_k": 51}, 422, "invalid_input", ["top_k", "50", "51"]),
        ({"question": SEED_QUESTION, "top_k": "abc"}, 422, "invalid_request", ["top_k"]),
        ({}, 422, "invalid_request", ["question", "required"]),
        ({"question": 42}, 422, "invalid_request", ["question", "string"]),
        ({"question": SEED_QUESTION, "colour": "red"}, 422, "invalid_request", ["colour"]),
        (["question"], 422, "invalid_request", ["body"]),
        (
            {"question": SEED_QUESTION, "document_ids": ["no-such-doc"]},
            404, "document_not_found", ["no-such-doc"],
        ),
        (
            {"question": SEED_QUESTION, "document_ids": [SEED_ID, "missing-too"]},
            404, "document_not_found", ["missing-too"],
        ),
        ({"question": SEED_QUESTION, "document_ids": []}, 422, "invalid_input", ["document_ids"]),
    ],
    ids=[
        "empty", "whitespace", "too-long", "top_k-0", "top_k-51", "top_k-abc", "no-question",
        "question-not-string", "extra-field", "not-an-object", "unknown-document",
        "one-unknown-document", "no-documents",
    ],
)
def test_bad_ask(
    client: TestClient, body: Any, status: int, code: str, words: list[str]
) -> None:
    assert_error(client.post("/v1/ask", json=body), status, code, *words)


@pytest.mark.parametrize("path", ["/v1/ask", "/v1/documents"])
def test_malformed_json(client: TestClient, path: str) -> None:
    response = client.post(
        path, content=b'{"question": "how many', headers={"content-type": "application/json"}
    )
    assert_error(response, 422, "malformed_json", "json")


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        ({"text": ""}, 422, "empty_document", ["empty"]),
        ({"text": "  \n\n\t "}, 422, "empty_document", ["empty"]),
        ({"text": "<html><body><p> </p></body></html>", "format": "html"},
         422, "empty_document", ["no text"]),
        ({"text": TEXT_ARTICLE, "format": "pdf"}, 422, "invalid_request", ["format", "markdown"]),
        ({"text": TEXT_ARTICLE, "id": "a b/c"}, 422, "invalid_input", ["id", "a b/c"]),
        ({"text": TEXT_ARTICLE, "id": "x" * 200}, 422, "invalid_input", ["id", "128"]),
        ({"text": TEXT_ARTICLE, "id": "-leading-dash"}, 422, "invalid_input", ["id"]),
        ({"text": TEXT_ARTICLE, "published": "next blursday"},
         422, "invalid_input", ["published", "next blursday"]),
        ({"text": 5}, 422, "invalid_request", ["text"]),
        ({"title": "No text"}, 422, "invalid_request", ["text", "required"]),
        ({"text": TEXT_ARTICLE, "colour": "red"}, 422, "invalid_request", ["colour"]),
        ({"text": "a" * 2_000_001}, 422, "invalid_input", ["text", "2000000"]),
    ],
    ids=[
        "empty", "whitespace", "html-without-text", "format-pdf", "id-with-space-and-slash",
        "id-too-long", "id-leading-dash", "bad-date", "text-not-string", "no-text",
        "extra-field", "text-too-long",
    ],
)
def test_bad_document(
    client: TestClient, body: Any, status: int, code: str, words: list[str]
) -> None:
    assert_error(client.post("/v1/documents", json=body), status, code, *words)


@pytest.mark.parametrize(
    ("filename", "content", "form", "code", "words"),
    [
        ("bad.txt", b"\xff\xfe\x00bad", {}, "invalid_input", ["utf-8"]),
        ("empty.md", b"", {}, "empty_document", ["empty"]),
        ("article.txt", TEXT_ARTICLE.encode(), {"format": "pdf"}, "invalid_input",
         ["not a PDF"]),
        ("article.txt", TEXT_ARTICLE.encode(), {"format": "docx"}, "unsupported_format",
         ["docx", "pdf"]),
        ("scan.pdf", scanned_pdf(), {}, "empty_document", ["no text layer", "OCR"]),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj garbage", {}, "invalid_input", ["PDF could not"]),
        ("cut.pdf", pdf_article()[:400], {}, "invalid_input", ["PDF could not"]),
        ("article.txt", TEXT_ARTICLE.encode(), {"id": "a b/c"}, "invalid_input", ["id"]),
        ("article.txt", TEXT_ARTICLE.encode(), {"published": "soon"}, "invalid_input",
         ["published"]),
    ],
    ids=["not-utf8", "empty", "format-pdf", "format-docx", "scanned-pdf", "damaged-pdf",
         "truncated-pdf", "bad-id", "bad-date"],
)
def test_bad_upload(
    client: TestClient,
    filename: str,
    content: bytes,
    form: dict[str, str],
    code: str,
    words: list[str],
) -> None:
    response = client.post(
        "/v1/documents/upload", files={"file": (filename, content, "text/plain")}, data=form
    )
    assert_error(response, 422, code, *words)


def test_upload_over_the_document_limit(
    client: TestClient, desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small limit keeps the request small; the check is the same at the default 2,000,000.
    monkeypatch.setattr(desk.settings, "max_document_chars", 300)
    content = ("Word after word fills the page. " * 20).encode()
    response = client.post(
        "/v1/documents/upload", files={"file": ("long.txt", content, "text/plain")}
    )
    assert_error(response, 422, "invalid_input", "640 characters", "300")


def test_upload_without_file(client: TestClient) -> None:
    response = client.post("/v1/documents/upload", data={"id": "nothing"})
    assert_error(response, 422, "invalid_request", "file", "required")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize(
    ("path", "document_id"),
    [("no-such-doc", "no-such-doc"), ("x" * 200, "x" * 200), ("a%20b%2Fc", "a b/c"),
     ("a b/c", "a b/c")],
    ids=["unknown", "too-long", "escaped-space-and-slash", "space-and-slash"],
)
def test_unknown_document(client: TestClient, method: str, path: str, document_id: str) -> None:
    response = client.request(method, f"/v1/documents/{path}")
    assert_error(response, 404, "document_not_found", document_id)


def test_unknown_route_and_method(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/v1/ask", json={}), 405, "method_not_allowed")


# ---- failed ingests ----------------------------------------------------------------------------
#
# Real Chroma cannot be made to fail a write on demand, so these tests replace one of the store's
# collection writes with one that fails after the first call: a fault injection, standing in for
# a crash, a full disk or a lost server connection halfway through an ingest.

CHANGED_SEED = long_article("monorail", 6)


@pytest.fixture
def faulty_client(fresh_desk: Factdesk) -> Iterator[TestClient]:
    # raise_server_exceptions=False: see the 500 response a real client would get.
    with TestClient(create_app(fresh_desk), raise_server_exceptions=False) as test_client:
        yield test_client


class FailAfterFirstCall:
    """Wraps a collection write: the first call goes through, later ones raise."""

    def __init__(self, write: Callable[..., Any]) -> None:
        self.write = write
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("injected fault: the store write failed")
        return self.write(*args, **kwargs)


def always_fail(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("injected fault: the store write failed")


@dataclass(frozen=True)
class SeedState:
    text: str
    chunks: list[tuple[str, str]]  # (id, text) of every chunk in Chroma
    lexical_ids: set[str]
    counts: StoreCounts


def seed_state(desk: Factdesk) -> SeedState:
    return SeedState(
        text=desk.get(SEED_ID).text,
        chunks=[(s.chunk.id, s.chunk.text) for s in chunks_in_chroma(desk, SEED_ID)],
        lexical_ids=lexical_ids_of(desk, SEED_ID),
        counts=store_counts(desk),
    )


def assert_seed_intact(client: TestClient, desk: Factdesk, before: SeedState) -> None:
    assert seed_state(desk) == before
    assert client.get(f"/v1/documents/{SEED_ID}").json()["text"] == before.text
    assert not desk.lexical.search("monorail", 20)

    answer = client.post("/v1/ask", json={"question": SEED_QUESTION, "top_k": 3}).json()
    assert answer["abstained"] is False
    assert answer["citations"]
    for c in answer["citations"]:
        assert c["document_id"] == SEED_ID
        assert before.text[c["start"] : c["end"]] == c["quote"]
    assert {p["chunk_id"] for p in answer["passages"]} <= {cid for cid, _ in before.chunks}


def test_update_failing_on_second_chunk_batch_keeps_previous_version(
    faulty_client: TestClient, fresh_desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = fresh_desk
    before = seed_state(desk)
    # A small batch limit (as a Chroma server may report) makes the new version span
    # several chunk writes; the second one fails.
    monkeypatch.setattr(desk.store.client, "get_max_batch_size", lambda: 2)
    failing = FailAfterFirstCall(desk.store.chunks.upsert)
    monkeypatch.setattr(desk.store.chunks, "upsert", failing)

    response = faulty_client.post("/v1/documents", json={"text": CHANGED_SEED, "id": SEED_ID})
    assert_error(response, 500, "internal_error")
    assert failing.calls == 2  # one batch of the new version was written before the fault
    monkeypatch.undo()
    assert_seed_intact(faulty_client, desk, before)

    # The store still takes the update once writes work again.
    retried = faulty_client.post("/v1/documents", json={"text": CHANGED_SEED, "id": SEED_ID})
    assert retried.json()["status"] == "updated"
    text = faulty_client.get(f"/v1/documents/{SEED_ID}").json()["text"]
    stored = chunks_in_chroma(desk, SEED_ID)
    assert "monorail" in text
    assert len(stored) == retried.json()["chunks"]
    assert len({s.version for s in stored}) == 1
    assert all(text[s.chunk.start : s.chunk.end] == s.chunk.text for s in stored)


def test_update_failing_at_the_document_record_keeps_previous_version(
    faulty_client: TestClient, fresh_desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = fresh_desk
    before = seed_state(desk)
    # Every chunk of the new version is written; the article record (the commit point) fails.
    monkeypatch.setattr(desk.store.documents, "upsert", always_fail)

    response = faulty_client.post("/v1/documents", json={"text": CHANGED_SEED, "id": SEED_ID})
    assert_error(response, 500, "internal_error")
    monkeypatch.undo()
    assert_seed_intact(faulty_client, desk, before)


def test_new_document_failing_midway_leaves_nothing(
    faulty_client: TestClient, fresh_desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = fresh_desk
    counts = store_counts(desk)
    monkeypatch.setattr(desk.store.client, "get_max_batch_size", lambda: 2)
    failing = FailAfterFirstCall(desk.store.chunks.upsert)
    monkeypatch.setattr(desk.store.chunks, "upsert", failing)

    response = faulty_client.post("/v1/documents", json={"text": CHANGED_SEED, "id": "doomed"})
    assert_error(response, 500, "internal_error")
    assert failing.calls == 2
    monkeypatch.undo()
    assert store_counts(desk) == counts
    assert chunks_in_chroma(desk, "doomed") == []
    assert lexical_ids_of(desk, "doomed") == set()
    assert_error(faulty_client.get("/v1/documents/doomed"), 404, "document_not_found", "doomed")


# Text hygiene (service/text_rules.py): the same rule in every text field of every route.
BAD_CHARACTERS = {"lone-surrogate": "\ud800", "nul": "\x00", "escape": "\x1b",
                  "noncharacter": "\uffff"}


def _with(value: str, bad: str) -> str:
    return value[:5] + bad + value[5:]


def post_json(client: TestClient, path: str, body: object) -> Any:
    """Posted as JSON with every non-ASCII character escaped: a lone surrogate is sendable
    only as the escape ``\\ud800``, as any JSON client would send it."""
    return client.post(path, content=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("bad", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/documents", {"text": TEXT_ARTICLE}, "text"),
    ("/v1/documents", {"text": TEXT_ARTICLE, "title": "Apple harvest"}, "title"),
    ("/v1/documents", {"text": TEXT_ARTICLE, "source": "Valley News"}, "source"),
    ("/v1/documents", {"text": TEXT_ARTICLE, "author": "Ana Ruiz"}, "author"),
    ("/v1/documents", {"text": TEXT_ARTICLE, "url": "https://x.example/a"}, "url"),
    ("/v1/ask", {"question": SEED_QUESTION}, "question"),
    ("/v1/ask", {"question": SEED_QUESTION, "sources": ["Valley News"]}, "sources"),
    ("/v1/summarize", {"question": SEED_QUESTION}, "question"),
    ("/v1/summarize", {"document_ids": [SEED_ID]}, "document_ids"),
])
def test_bad_characters_in_any_text_field_are_a_422_naming_the_field(
        client: TestClient, path: str, body: dict, field: str, bad: str) -> None:
    value = body[field]
    body = {**body, field: [_with(value[0], bad)] if isinstance(value, list)
            else _with(value, bad)}
    response = post_json(client, path, body)
    named = f"{field}[0]" if isinstance(value, list) else field
    assert_error(response, 422, "invalid_text", named, "position 5")


@pytest.mark.parametrize("bad", list(BAD_CHARACTERS.values()), ids=list(BAD_CHARACTERS))
def test_bad_characters_in_a_batch_are_that_articles_error(client: TestClient,
                                                           bad: str) -> None:
    response = post_json(client, "/v1/documents/batch", {"documents": [
        {"id": "fine-one", "text": TEXT_ARTICLE}, {"id": "bad-one", "text": _with("Words", bad)}]})
    assert_error(response, 422, "invalid_text", "text", "position 5")


@pytest.mark.parametrize(("field", "bad"), [
    ("title", "\x00"), ("source", "\x07"), ("author", "\ufffe"), ("published", "\x1f")])
def test_bad_characters_in_upload_fields_are_a_422(client: TestClient, field: str,
                                                   bad: str) -> None:
    response = client.post("/v1/documents/upload",
                           files={"file": ("a.txt", TEXT_ARTICLE.encode(), "text/plain")},
                           data={field: _with("Valley News", bad)})
    assert_error(response, 422, "invalid_input", field, "position 5")


def test_a_nul_in_an_uploaded_file_is_a_422(client: TestClient) -> None:
    content = _with(TEXT_ARTICLE, "\x00").encode()
    response = client.post("/v1/documents/upload",
                           files={"file": ("a.txt", content, "text/plain")})
    assert_error(response, 422, "invalid_input", "text", "NUL", "position 5")


def test_right_to_left_marks_and_4_byte_characters_are_text(client: TestClient,
                                                            desk: Factdesk) -> None:
    question = "\u200fHow many tonnes of apples 🍎 did the Vellan Valley growers pick?"
    response = client.post("/v1/ask", json={"question": question, "mode": "offline"})
    assert response.status_code == 200, response.text
