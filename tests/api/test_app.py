"""The application shell: health check and the OpenAPI documentation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.desk import Factdesk

pytestmark = pytest.mark.integration


def test_healthz(client: TestClient, desk: Factdesk) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "documents": desk.store.documents.count(),
        "chunks": desk.store.chunks.count(),
        "rate_limit": None,  # no rate limit set
    }


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()

    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/v1/ask", "/v1/documents", "/v1/documents/upload", "/healthz"} <= set(paths)
    assert "ErrorOut" in schema.json()["components"]["schemas"]
