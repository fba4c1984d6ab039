"""GET / and its static files: served from the installed package, under a strict policy.

What the page does in a browser is tested in tests/web/."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


def test_the_page_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<h1>factdesk</h1>" in response.text
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_the_page_loads_only_its_own_files(client: TestClient) -> None:
    page = client.get("/").text
    references = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert references, "the page references no script or stylesheet"
    assert "<script>" not in page and " style=" not in page  # nothing inline
    for reference in references:
        assert "//" not in reference and not reference.startswith("/"), reference
        response = client.get(f"/{reference}")
        assert response.status_code == 200, reference
        assert response.content


@pytest.mark.parametrize(("name", "media_type"), [
    ("app.js", "text/javascript; charset=utf-8"),
    ("style.css", "text/css; charset=utf-8"),
    ("icon.svg", "image/svg+xml"),
])
def test_static_files_have_their_media_types_and_revalidate(
    client: TestClient, name: str, media_type: str
) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "no-cache"
    again = client.get(f"/static/{name}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("path", [
    "/static/index.htm", "/static/..%2Fapp.py", "/static/../api/app.py", "/static/__init__.py",
])
def test_only_the_pages_files_are_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_script_never_parses_server_data_as_html(client: TestClient) -> None:
    script = client.get("/static/app.js").text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
