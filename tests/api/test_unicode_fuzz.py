"""Every text field of every route, fed any string Unicode can spell and some it cannot: lone
surrogates, NUL and other control characters, right-to-left marks, noncharacters and 4-byte
characters among the rest. No answer is a 5xx, every error is the JSON error shape, and a
refused request leaves the store exactly as it was (service/text_rules.py says what is
refused). Hypothesis is derandomized, so every run sends the same requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.desk import Factdesk
from tests.conftest import make_settings, seeded_desk
from tests.samples import SEED_ID, SEED_QUESTION, TEXT_ARTICLE, store_counts

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 40  # per route and field group
AWKWARD = ["\ud800", "\udfff", "\udbff", "\x00", "\x1b", "\x7f", "\x85", "\u200f",
           "\u202e", "\u2028", "\ufeff", "\ufffe", "\uffff", "\ufdd0", "😀", "\U0010ffff",
           "\U0001fffe", "\r", "\t", "\n", "é", "ß", "中"]
awkward = st.sampled_from(AWKWARD)
# Mostly the awkward characters, and any code point at all (surrogates included) besides.
# (Joined lists, not st.text: st.text leaves surrogates out.)
texts = st.lists(st.one_of(awkward, awkward, st.characters(exclude_categories=())),
                 min_size=1, max_size=12).map("".join)

# route, a valid body, the fields that take the generated text
JSON_ROUTES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("/v1/documents", {"text": TEXT_ARTICLE, "id": "fuzz-article"},
     ["text", "title", "url", "source", "author", "published", "format", "id"]),
    ("/v1/ask", {"question": SEED_QUESTION, "mode": "offline"},
     ["question", "sources", "document_ids", "published_after", "as_of"]),
    ("/v1/summarize", {"document_id": SEED_ID, "mode": "offline"},
     ["document_id", "document_ids", "question", "sources"]),
]
LIST_FIELDS = {"sources", "document_ids"}
PLAIN = {"sources": "Epoch Times", "document_ids": SEED_ID, "published_after": "2025-01-01",
         "as_of": "2025-05-01", "title": "Apple harvest", "source": "Valley News"}


@pytest.fixture(scope="module")
def fuzz_desk(tmp_path_factory: pytest.TempPathFactory) -> Factdesk:
    return seeded_desk(make_settings(tmp_path_factory.mktemp("unicode-fuzz") / "data"))


@pytest.fixture(scope="module")
def app_client(fuzz_desk: Factdesk) -> Iterator[TestClient]:
    from service.api.app import create_app

    with TestClient(create_app(fuzz_desk), raise_server_exceptions=False) as client:
        yield client


def spliced(valid: str, generated: str) -> str:
    """``generated`` set into the middle of a valid value (most values then get past the
    checks that come before the text rule: an empty question is refused for its emptiness)."""
    middle = len(valid) // 2
    return valid[:middle] + generated + valid[middle:]


def check(response: Any, desk: Factdesk, before: object) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
        assert store_counts(desk) == before, "a refused request changed the store"


def post_json(client: TestClient, path: str, body: object) -> Any:
    # Escaped to ASCII: a lone surrogate travels as the JSON escape any client would send.
    return client.post(path, content=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(("path", "valid", "fields"), JSON_ROUTES,
                         ids=[route for route, _, _ in JSON_ROUTES])
def test_json_routes_take_any_text_without_a_5xx(
        app_client: TestClient, fuzz_desk: Factdesk, path: str, valid: dict[str, Any],
        fields: list[str]) -> None:
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(field=st.sampled_from(fields), value=texts)
    def run(field: str, value: str) -> None:
        value = spliced(str(valid.get(field, PLAIN.get(field, ""))), value)
        body = {**valid, field: [value] if field in LIST_FIELDS else value}
        if path == "/v1/summarize" and field != "document_id":
            body.pop("document_id")
        before = store_counts(fuzz_desk)
        check(post_json(app_client, path, body), fuzz_desk, before)
        if path == "/v1/documents":
            app_client.delete("/v1/documents/fuzz-article")

    run()


def test_batch_and_upload_take_any_text_without_a_5xx(app_client: TestClient,
                                                      fuzz_desk: Factdesk) -> None:
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(field=st.sampled_from(["text", "title", "source", "author"]), value=texts,
           as_file=st.booleans())
    def run(field: str, value: str, as_file: bool) -> None:
        before = store_counts(fuzz_desk)
        if as_file:  # the value in the file (as UTF-8, surrogates escaped) or in a form field
            content = (spliced(TEXT_ARTICLE, value) if field == "text" else TEXT_ARTICLE
                       ).encode("utf-8", "surrogatepass")
            form = {} if field == "text" else {field: value}
            response = app_client.post(
                "/v1/documents/upload", data={"id": "fuzz-upload", **form},
                files={"file": ("a.txt", content, "text/plain")})
        else:
            document = {"id": "fuzz-batch", "text": TEXT_ARTICLE}
            document[field] = spliced(document.get(field, "Valley News"), value)
            response = post_json(app_client, "/v1/documents/batch", {"documents": [document]})
        check(response, fuzz_desk, before)
        if response.status_code == 200 and response.json().get("errors"):
            assert store_counts(fuzz_desk) == before  # the one article was refused
        for doc_id in ("fuzz-upload", "fuzz-batch"):
            app_client.delete(f"/v1/documents/{doc_id}")

    run()


def test_document_paths_take_any_text_without_a_5xx(app_client: TestClient,
                                                    fuzz_desk: Factdesk) -> None:
    from urllib.parse import quote

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(value=texts.filter(bool), method=st.sampled_from(["GET", "DELETE"]))
    def run(value: str, method: str) -> None:
        if value == SEED_ID:
            return
        before = store_counts(fuzz_desk)
        path = "/v1/documents/" + quote(value.encode("utf-8", "surrogatepass"), safe="")
        check(app_client.request(method, path), fuzz_desk, before)

    run()
