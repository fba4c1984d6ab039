"""Shared fixtures: settings on a temp data dir, a Factdesk with the seed ingested, an HTTP client.

Every desk runs on real Chroma (embedded, in a temp dir; or, with FACTDESK_TEST_CHROMA=server,
on one ``chroma run`` server under a collection prefix of its own) and the real embedding model;
the model is loaded once per process (``get_embedder`` is cached); a new desk with the seed
ingested takes a second or two. Tests that only read share one desk per module; tests that
write get their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.chroma_server import (
    ChromaServer,
    shared_chroma_server,
    stop_shared_chroma_server,
    store_settings,
)
from tests.samples import SEEDS_DIR

if TYPE_CHECKING:  # importing the desk loads Chroma; unit tests should not pay for that
    from service.desk import Factdesk


def make_settings(data_dir: Path) -> Settings:
    # No LLM, whatever the environment says: these desks answer offline (tests/llm/ has the LLM).
    return Settings(data_dir=data_dir, seeds_dir=SEEDS_DIR, llm_model=None, **store_settings())


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[ChromaServer]:
    """Chroma's own server (``chroma run``) on a free 127.0.0.1 port, for the whole session."""
    yield shared_chroma_server()
    stop_shared_chroma_server()


@pytest.fixture(scope="session", autouse=True)
def stop_chroma_server_at_exit() -> Iterator[None]:
    """The server FACTDESK_TEST_CHROMA=server starts on first use stops with the session."""
    yield
    stop_shared_chroma_server()


def seeded_desk(settings: Settings) -> Factdesk:
    from service.desk import Factdesk

    desk = Factdesk(settings)
    desk.ingest_seeds()
    return desk


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Factdesk:
    """One seeded desk per test module, for tests that do not change what it stores."""
    return seeded_desk(make_settings(tmp_path_factory.mktemp("desk") / "data"))


@pytest.fixture(scope="module")
def client(desk: Factdesk) -> Iterator[TestClient]:
    from service.api.app import create_app

    with TestClient(create_app(desk)) as test_client:
        yield test_client


@pytest.fixture
def fresh_desk(settings: Settings) -> Factdesk:
    """A seeded desk of its own, for tests that write."""
    return seeded_desk(settings)


@pytest.fixture
def fresh_client(fresh_desk: Factdesk) -> Iterator[TestClient]:
    from service.api.app import create_app

    with TestClient(create_app(fresh_desk)) as test_client:
        yield test_client
