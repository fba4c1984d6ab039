"""The web page with an LLM: the model's draft shows while it streams, then the verified answer
replaces it. The LLM is a real llama.cpp server running SmolLM2-135M (see tests/llm/)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.llm.conftest import llm_settings
from tests.llm.servers import LlamaServer, model_file, require_llama_cpp
from tests.web.conftest import LiveServer, serve_seeded

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration

QUESTION = "How many North Korean troops were killed in Ukraine?"
Shoot = Callable[["Page", str], Path]

# Records every text the draft shows, from the first delta to the final answer.
WATCH_DRAFT_JS = """() => {
  window.draftTexts = [];
  new MutationObserver(() => {
    const draft = document.querySelector('#answer .draft-text');
    if (draft) window.draftTexts.push(draft.textContent);
  }).observe(document.getElementById('answer'),
             {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_llama_cpp()
    llama = LlamaServer(model_file())
    try:
        live = serve_seeded(llm_settings(tmp_path_factory.mktemp("web-llm") / "data", llama.url))
        yield live
        live.stop()
    finally:
        llama.stop()


def test_llm_mode_streams_the_draft_then_shows_the_verified_answer(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    page.evaluate(WATCH_DRAFT_JS)
    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_label("Mode").select_option("llm")
    with page.expect_request("**/v1/ask") as request:
        page.get_by_role("button", name="Ask", exact=True).click()
    assert request.value.post_data_json == {"question": QUESTION, "mode": "llm", "stream": True}
    expect(page.locator("#answer .meta")).to_be_visible(timeout=120_000)

    seen = [text for text in page.evaluate("() => window.draftTexts") if text]
    assert len(set(seen)) > 1, "the draft did not grow as the model wrote"
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(seen))
    expect(page.locator("#answer .draft")).to_have_count(0)  # the verified answer replaced it

    meta = page.locator("#answer .meta")
    answer = page.locator("#answer .answer-text")
    if "Written by the LLM" in meta.inner_text():
        # Flag mode keeps every sentence the model wrote: the answer is drawn from the draft.
        expect(answer).not_to_be_empty()
        for sentence in page.locator("#answer .sentence").all_inner_texts():
            assert sentence.split()[0] in seen[-1]
        marks = page.locator("#answer .cite-mark")
        if marks.count():
            quote = marks.first.get_attribute("title")
            marks.first.click()
            expect(page.locator("#article-text mark")).to_have_text(quote or "")
            expect(page.locator("#article-text mark")).to_be_in_viewport()
            page.keyboard.press("Escape")
    else:  # the model's text could not be verified: the offline answer, and why
        expect(meta).to_contain_text("the LLM's answer could not be used")
        expect(answer).to_contain_text("600")
    shoot(page, "llm-answer")
