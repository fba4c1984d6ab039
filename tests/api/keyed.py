"""Apps over a test desk with their own HTTP settings: API keys, limits, rate limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from service.config import Settings

if TYPE_CHECKING:
    from service.desk import Factdesk

READ_KEY = "rk-5b1e0c9d7a3f4e2b8c6d0a1f3e5b7c9d"
WRITE_KEY = "wk-8e2a4c6b0d1f3a5c7e9b2d4f6a8c0e1b"
API_KEYS = f"{READ_KEY}:read, {WRITE_KEY}:write"


def api_settings(desk: Factdesk, **overrides: Any) -> Settings:
    """The desk's settings with ``overrides`` (validated, as from the environment)."""
    values = desk.settings.model_dump()
    values.update(overrides)
    return Settings(**values)


def app_client(desk: Factdesk, **overrides: Any) -> TestClient:
    """A client of a new app over ``desk``; use it in a ``with`` block."""
    from service.api.app import create_app

    return TestClient(create_app(desk, api_settings(desk, **overrides)))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
