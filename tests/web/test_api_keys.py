"""The web page against a server with API keys: it asks for a key on a 401, sends it as
``Authorization: Bearer``, and keeps it in the browser tab's session only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from service.config import Settings
from tests.samples import SEED_ID, SEED_TITLE
from tests.web.conftest import DESKTOP, LiveServer, open_page, serve_seeded, web_settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif("api_keys" not in Settings.model_fields,
                       reason="the server has no API keys setting (FACTDESK_API_KEYS) yet"),
]

READ_KEY = "web-read-key"
WRITE_KEY = "web-write-key"
QUESTION = "How many North Korean troops were killed in Ukraine?"
Shoot = Callable[["Page", str], Path]


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = web_settings(tmp_path_factory.mktemp("web-keys") / "data",
                            api_keys=f"{READ_KEY}:read,{WRITE_KEY}:write")
    live = serve_seeded(settings)
    yield live
    live.stop()


def enter_key(page: Page, key: str) -> None:
    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Save key").click()


def test_a_401_asks_for_a_key_which_is_then_sent_and_kept_for_the_session(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    # The page itself is open; listing the articles needs a key, so the page asks for one.
    dialog = page.get_by_role("dialog", name="API key")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-reason")).to_contain_text("needs an API key")
    expect(page.get_by_role("textbox", name="API key")).to_be_focused()
    shoot(page, "api-key-dialog")

    enter_key(page, "not-a-key")  # refused: asked again, with the server's reason
    expect(page.locator("#key-reason")).to_contain_text("not one this server knows")
    expect(dialog).to_be_visible()

    enter_key(page, READ_KEY)
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name=SEED_TITLE)).to_be_visible()
    expect(page.locator("#key-state")).to_have_text("API key set for this session")
    assert page.evaluate("() => sessionStorage.getItem('factdesk.apiKey')") == READ_KEY
    assert page.evaluate("() => localStorage.length") == 0

    with page.expect_request("**/v1/ask") as sent:
        page.get_by_label("Question", exact=True).fill(QUESTION)
        page.get_by_role("button", name="Ask", exact=True).click()
    assert sent.value.headers["authorization"] == f"Bearer {READ_KEY}"
    expect(page.locator("#answer .answer-text")).to_contain_text("600")

    # A read key may not delete: the server's 403 is shown, and the article stays.
    page.once("dialog", lambda confirm: confirm.accept())
    page.get_by_role("row", name=SEED_TITLE).get_by_role("button", name="Delete").click()
    expect(page.locator("#articles-error")).to_contain_text("needs a 'write' key")
    expect(dialog).to_be_hidden()
    assert server.api("GET", f"/v1/documents/{SEED_ID}",
                      headers={"X-API-Key": READ_KEY}).status_code == 200

    page.reload()  # the same tab keeps its key
    expect(page.get_by_role("row", name=SEED_TITLE)).to_be_visible()
    expect(dialog).to_be_hidden()

    page.get_by_role("button", name="Forget key").click()
    expect(page.locator("#key-state")).to_have_text("No API key")
    assert page.evaluate("() => sessionStorage.getItem('factdesk.apiKey')") is None


def test_another_browser_session_does_not_get_the_key(
    browser: Browser, server: LiveServer
) -> None:
    from playwright.sync_api import expect

    first, first_errors = open_page(browser, server.url + "/", DESKTOP)
    second, second_errors = open_page(browser, server.url + "/", DESKTOP)
    try:
        enter_key(first, WRITE_KEY)
        expect(first.get_by_role("row", name=SEED_TITLE)).to_be_visible()
        second.reload()
        expect(second.get_by_role("dialog", name="API key")).to_be_visible()
        assert second.evaluate("() => sessionStorage.getItem('factdesk.apiKey')") is None
    finally:
        first.context.close()
        second.context.close()
    assert first_errors == second_errors == []
