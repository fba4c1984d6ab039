"""Fixtures for the web page tests: the real app under uvicorn on a free port, with real Chroma
in a temporary data directory holding the seed article, and Debian's Chromium driven by
Playwright (its own browser download cannot work here; see NOTES, Browsers).

One browser and one server per module; each test gets a fresh browser context (its own
sessionStorage). Screenshots go to ``$FACTDESK_ARTIFACTS`` or ``tests/web/artifacts/``.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from service.config import Settings
from tests.samples import SEEDS_DIR

if TYPE_CHECKING:
    from fastapi import FastAPI
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("FACTDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("FACTDESK_ARTIFACTS") or Path(__file__).parent / "artifacts")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SERVER_START_S = 30.0
# A failed fetch is logged by the browser as a console error; a 4xx the page expects is not a bug.
EXPECTED_CONSOLE = "Failed to load resource"


def require_browser() -> None:
    """Fail in CI (CI=true), skip elsewhere, when Playwright or Chromium is missing."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if not missing:
        return
    message = "the web page tests need " + " and ".join(missing)
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


class LiveServer:
    """``app`` served by uvicorn in a thread on a free 127.0.0.1 port; ``stop()`` ends it."""

    def __init__(self, app: FastAPI) -> None:
        import uvicorn

        self.app = app
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request to the same server, outside the browser (to check what the page shows)."""
        return httpx.request(method, f"{self.url}{path}", timeout=60, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def web_settings(data_dir: Path, **overrides: Any) -> Settings:
    # No LLM, whatever the environment says (test_llm_page.py has its own).
    values: dict[str, Any] = {"data_dir": data_dir, "seeds_dir": SEEDS_DIR, "llm_model": None}
    values.update(overrides)
    return Settings(**values)


def serve_seeded(settings: Settings) -> LiveServer:
    from service.api.app import create_app
    from service.desk import Factdesk

    desk = Factdesk(settings)
    desk.ingest_seeds()
    return LiveServer(create_app(desk))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the seed article (needs the browser first: no server when it is missing)."""
    live = serve_seeded(web_settings(tmp_path_factory.mktemp("web") / "data"))
    yield live
    live.stop()


def open_page(browser: Browser, url: str, viewport: dict[str, int],
              **context_options: Any) -> tuple[Page, list[str]]:
    """A page in a context of its own, and the list its script errors are collected in."""
    context = browser.new_context(viewport=viewport, **context_options)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda message: errors.append(f"console: {message.text}")
            if message.type == "error" and EXPECTED_CONSOLE not in message.text else None)
    page.goto(url)
    return page, errors


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """The page at ``/`` on a desktop-sized viewport; fails the test on any script error or
    Content-Security-Policy violation (both show in the console)."""
    page, errors = open_page(browser, server.url + "/", DESKTOP)
    yield page
    page.context.close()
    assert errors == []


@pytest.fixture(scope="session")
def shoot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as ``<name>.png`` in the artifacts directory."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
