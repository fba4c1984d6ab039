"""The web page in a real browser: asking, reading a citation in its article, managing articles.

Every expectation about an answer is checked against the same server's JSON API, and every
highlight against the stored article: its offsets in the page are the citation's offsets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.samples import SEED_ID, SEED_TITLE, TEXT_ARTICLE, UNANSWERABLE_QUESTION
from tests.web.conftest import DESKTOP, PHONE, LiveServer, open_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.integration

QUESTION = "How many North Korean troops were killed in Ukraine?"
Shoot = Callable[["Page", str], Path]

TRAM_TITLE = "Ostbrook Opens Its First Tram Line"
TRAM_QUESTION = "How many passengers did the Ostbrook tram carry on its opening day?"
TRAM_FACT = ("On its opening day the Ostbrook tram carried 27,400 passengers, the regional "
             "transport authority said on Sunday.")
# Ten paragraphs without a number before the fact: the cited span is far down the article.
TRAM_FILLER = """\
The new line runs from the railway station through the old town to the university campus, and \
its trams stop at every crossing of the river.

Planning began more than a decade ago, when the city council first asked engineers to study how \
the narrow streets of the old town could take rails again.

Shopkeepers on Market Street complained for months about the noise and dust of the works, and \
several of them asked the council for help with their lost trade.

The council answered with a fund for the shops along the route, paid from the regional budget, \
and with free parking for their customers on Saturdays.

Engineers moved water pipes, gas mains and telephone cables before the first rails were laid, \
work that took longer than anyone had planned.

The trams themselves were built abroad and arrived by ship in the spring, one at a time, before \
being tested at night on the finished sections of track.

Drivers trained for weeks on a closed loop near the depot, learning the route and the signals, \
and practising emergency stops in the rain.

Cyclists' groups asked for wider lanes beside the rails after several riders fell on the tracks \
during the tests, and the council promised to repaint the crossings.

Residents of the northern districts, which the line does not reach, asked when a second line \
would be built; the mayor said a study would begin next year.

The opening ceremony was held at the station square, where a brass band played and children \
were given paper tickets as souvenirs of the day."""
TRAM_ARTICLE = f"{TRAM_TITLE}\n\n{TRAM_FILLER}\n\n{TRAM_FACT}\n"

HIGHLIGHT_JS = """() => {
  const body = document.getElementById('article-text');
  const mark = body.querySelector('mark');
  const range = document.createRange();
  range.setStart(body, 0);
  range.setEndBefore(mark);
  const start = range.toString().length;
  return {start, end: start + mark.textContent.length, quote: mark.textContent,
          text: body.textContent, scrollTop: body.scrollTop};
}"""


def ask_on_page(page: Page, question: str, mode: str = "auto") -> None:
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_label("Mode").select_option(mode)
    page.get_by_role("button", name="Ask", exact=True).click()


def api_answer(server: LiveServer, question: str) -> dict[str, Any]:
    response = server.api("POST", "/v1/ask", json={"question": question, "mode": "offline"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def stored_text(server: LiveServer, document_id: str) -> str:
    response = server.api("GET", f"/v1/documents/{document_id}")
    assert response.status_code == 200, response.text
    return response.json()["text"]  # type: ignore[no-any-return]


def highlight(page: Page) -> dict[str, Any]:
    """Where the article dialog's highlight sits in the text it shows."""
    from playwright.sync_api import expect

    expect(page.locator("#article-text mark")).to_be_visible()
    return page.evaluate(HIGHLIGHT_JS)  # type: ignore[no-any-return]


def assert_highlight_is(page: Page, server: LiveServer, citation: dict[str, Any]) -> None:
    """The open article is the stored text, and its highlight is exactly the cited span."""
    from playwright.sync_api import expect

    shown = highlight(page)
    text = stored_text(server, citation["document_id"])
    assert shown["text"] == text
    assert (shown["start"], shown["end"]) == (citation["start"], citation["end"])
    assert shown["quote"] == text[citation["start"]:citation["end"]] == citation["quote"]
    expect(page.locator("#article-text mark")).to_be_in_viewport()
    expect(page.locator("#article-note")).to_be_hidden()


@pytest.fixture
def tram_article(server: LiveServer) -> Iterator[None]:
    """Whatever the test does, the tram article does not outlive it."""
    yield
    for article in server.api("GET", "/v1/documents").json()["documents"]:
        if article["title"] == TRAM_TITLE:
            server.api("DELETE", f"/v1/documents/{article['id']}")


def test_seed_question_answers_600_and_its_citation_highlights_the_cited_span(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    expected = api_answer(server, QUESTION)
    assert "600" in expected["answer"] and expected["citations"]
    expect(page.get_by_role("row", name=SEED_TITLE)).to_be_visible()

    ask_on_page(page, QUESTION)
    answer = page.locator("#answer .answer-text")
    expect(answer).to_contain_text("600")
    marks = page.locator("#answer .cite-mark")
    expect(marks).to_have_count(len(expected["citations"]))
    first = expected["citations"][0]
    # Each mark shows its quote: as its tooltip, and in the numbered list it points to.
    mark = page.get_by_role("button", name="Citation 1", exact=True)
    expect(mark).to_have_attribute("title", first["quote"])
    expect(page.locator("#ask-source-1")).to_contain_text(first["quote"])
    expect(page.locator("#answer .meta")).to_contain_text("Offline answer")
    expect(page.locator("#answer")).to_have_attribute("aria-busy", "false")
    shoot(page, "answer")

    mark.click()
    dialog = page.get_by_role("dialog", name=SEED_TITLE)
    expect(dialog).to_be_visible()
    assert_highlight_is(page, server, first)
    expect(page.locator("#article-text mark")).to_be_focused()
    shoot(page, "answer-citation")

    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(mark).to_be_focused()


def test_an_uploaded_article_is_listed_answered_and_its_citation_scrolled_into_view(
    page: Page, server: LiveServer, shoot: Shoot, tram_article: None
) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Add an article").click()
    page.get_by_label("Or a file").set_input_files(
        {"name": "tram.txt", "mimeType": "text/plain", "buffer": TRAM_ARTICLE.encode()})
    page.get_by_label("Source (optional)", exact=True).fill("Ostbrook Courier")
    page.get_by_label("Published (optional)", exact=True).fill("2025-06-01")
    page.get_by_label("Author (optional)", exact=True).fill("Ana Ruiz")
    page.get_by_label("Address (optional)", exact=True).fill("https://courier.example/tram")
    shoot(page, "add-article")
    page.get_by_role("button", name="Add article").click()

    expect(page.locator("#articles-status")).to_contain_text(f"Added “{TRAM_TITLE}”")
    row = page.get_by_role("row", name=TRAM_TITLE)
    expect(row).to_be_visible()
    listed = {a["title"]: a for a in server.api("GET", "/v1/documents").json()["documents"]}
    assert TRAM_TITLE in listed, "the upload did not reach the server"
    expect(row).to_contain_text("Ostbrook Courier")
    expect(row).to_contain_text("2025-06-01")
    stored = server.api("GET", f"/v1/documents/{listed[TRAM_TITLE]['id']}").json()
    assert (stored["author"], stored["url"]) == ("Ana Ruiz", "https://courier.example/tram")
    expect(row.locator("td.num")).to_have_text(str(listed[TRAM_TITLE]["chunks"]))
    expect(page.get_by_label("Or a file")).to_have_value("")  # the form is reset

    expected = api_answer(server, TRAM_QUESTION)
    assert "27,400" in expected["answer"], expected["answer"]
    ask_on_page(page, TRAM_QUESTION)
    expect(page.locator("#answer .answer-text")).to_contain_text("27,400")
    cited = next(c for c in expected["citations"] if "27,400" in c["quote"])
    number = expected["citations"].index(cited) + 1
    page.get_by_role("button", name=f"Citation {number}", exact=True).click()
    expect(page.get_by_role("dialog", name=TRAM_TITLE)).to_be_visible()
    assert_highlight_is(page, server, cited)
    # The fact is the article's last paragraph: the text had to scroll to show it.
    assert highlight(page)["scrollTop"] > 0
    shoot(page, "upload-citation")


def test_deleting_an_article_removes_it_from_the_list_and_the_store(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    added = server.api("POST", "/v1/documents", json={"text": TEXT_ARTICLE, "id": "web-apples"})
    assert added.status_code == 200, added.text
    title = added.json()["title"]
    page.reload()
    row = page.get_by_role("row", name=title)
    expect(row).to_be_visible()
    count = page.locator("#articles tr").count()

    prompts: list[str] = []

    def accept(dialog: Any) -> None:
        prompts.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#articles-status")).to_have_text(f"Deleted “{title}”.")
    expect(row).to_have_count(0)
    expect(page.locator("#articles tr")).to_have_count(count - 1)
    expect(page.get_by_role("row", name=SEED_TITLE)).to_be_visible()
    expect(page.locator("#articles-heading")).to_be_focused()
    assert prompts and title in prompts[0]
    assert server.api("GET", "/v1/documents/web-apples").status_code == 404
    shoot(page, "deleted")


def test_a_dismissed_delete_keeps_the_article(page: Page, server: LiveServer) -> None:
    from playwright.sync_api import expect

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("row", name=SEED_TITLE).get_by_role("button", name="Delete").click()
    expect(page.get_by_role("row", name=SEED_TITLE)).to_be_visible()
    assert server.api("GET", f"/v1/documents/{SEED_ID}").status_code == 200


def test_an_abstention_is_shown_with_the_closest_passages(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    expected = api_answer(server, UNANSWERABLE_QUESTION)
    assert expected["abstained"] and expected["passages"]
    ask_on_page(page, UNANSWERABLE_QUESTION, mode="offline")
    abstained = page.locator("#answer .abstained")
    expect(abstained).to_contain_text("No answer")
    expect(abstained).to_contain_text(expected["answer"])
    expect(page.locator("#answer .cite-mark")).to_have_count(0)
    expect(page.get_by_role("heading", name="The closest passages it looked at")).to_be_visible()
    passages = page.locator("#answer .passage")
    expect(passages).to_have_count(len(expected["passages"]))
    best = expected["passages"][0]
    expect(passages.first).to_contain_text(best["title"])
    expect(passages.first).to_contain_text(" ".join(best["text"].split())[:80])
    shoot(page, "abstention")

    page.get_by_role("button", name="Show passage 1 in its article").click()
    assert_highlight_is(page, server, {**best, "quote": best["text"]})


def test_an_empty_question_shows_the_servers_error(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    with page.expect_response("**/v1/ask") as response:
        ask_on_page(page, "   ")
    assert response.value.status == 422
    alert = page.locator("#ask-error")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_have_text("Question is empty.")
    question = page.get_by_label("Question", exact=True)
    expect(question).to_have_attribute("aria-invalid", "true")
    expect(question).to_be_focused()
    expect(page.locator("#answer .answer-text")).to_have_count(0)
    shoot(page, "empty-question")

    ask_on_page(page, QUESTION)  # a good question clears the error
    expect(page.locator("#answer .answer-text")).to_contain_text("600")
    expect(alert).to_be_hidden()
    expect(question).not_to_have_attribute("aria-invalid", "true")


def test_article_text_and_titles_are_shown_as_text_never_as_markup(
    page: Page, server: LiveServer
) -> None:
    from playwright.sync_api import expect

    title = '<img src=x onerror="document.body.dataset.pwned=1">Markup in a title'
    body = "A paragraph with <script>document.body.dataset.pwned=2</script> inside it."
    page.get_by_text("Add an article").click()
    page.get_by_label("Or a file").set_input_files(
        {"name": "markup.txt", "mimeType": "text/plain", "buffer": f"{title}\n\n{body}\n".encode()})
    page.get_by_role("button", name="Add article").click()
    try:
        link = page.locator("#articles .title-link", has_text="Markup in a title")
        expect(link).to_have_text(title)
        link.click()
        expect(page.locator("#article-title")).to_have_text(title)
        expect(page.locator("#article-text")).to_contain_text(body)
        assert page.locator("#articles img, #article-dialog img, #article-dialog script").count() == 0
        assert page.evaluate("() => document.body.dataset.pwned") is None
    finally:
        for article in server.api("GET", "/v1/documents").json()["documents"]:
            if "Markup in a title" in article["title"]:
                server.api("DELETE", f"/v1/documents/{article['id']}")


def test_adding_nothing_is_refused_on_the_page(page: Page) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Add an article").click()
    page.get_by_role("button", name="Add article").click()
    expect(page.locator("#add-error")).to_have_text("Paste the article's text or choose a file.")
    expect(page.get_by_label("Text", exact=True)).to_be_focused()


def test_the_page_works_from_the_keyboard(page: Page, server: LiveServer) -> None:
    from playwright.sync_api import expect

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the question")).to_be_focused()
    page.keyboard.press("Enter")
    question = page.get_by_label("Question", exact=True)
    expect(question).to_be_focused()
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    expect(page.locator("#answer .answer-text")).to_contain_text("600")

    for _ in range(4):  # the mode, the filters, the Ask button, then the first citation
        page.keyboard.press("Tab")
    mark = page.get_by_role("button", name="Citation 1", exact=True)
    expect(mark).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("#article-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#article-text mark")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(mark).to_be_focused()


def test_every_control_has_a_label(page: Page) -> None:
    page.get_by_text("Add an article").click()
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
        .map((c) => c.id || c.name)""")
    assert unlabelled == []
    nameless = page.evaluate("""() => [...document.querySelectorAll('button')]
        .filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim()))
        .map((b) => b.outerHTML)""")
    assert nameless == []


def test_on_a_phone_the_page_fits_the_screen(
    browser: Browser, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    page, errors = open_page(browser, server.url + "/", PHONE, is_mobile=True, has_touch=True,
                             device_scale_factor=2)
    try:
        expect(page.get_by_role("row", name=SEED_TITLE)).to_be_visible()
        ask_on_page(page, QUESTION)
        expect(page.locator("#answer .answer-text")).to_contain_text("600")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        # The article table becomes one card per article.
        assert page.locator("#articles tr").first.evaluate(
            "(row) => getComputedStyle(row).display") == "block"
        text_size = page.locator("#answer .answer-text").evaluate(
            "(p) => parseFloat(getComputedStyle(p).fontSize)")
        assert text_size >= 16
        shoot(page, "phone-answer")

        page.get_by_role("button", name="Citation 1", exact=True).tap()
        dialog = page.locator("#article-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#article-text mark")).to_be_in_viewport()
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        shoot(page, "phone-citation")
    finally:
        page.context.close()
    assert errors == []


def test_the_page_has_a_strict_content_security_policy(
    browser: Browser, server: LiveServer
) -> None:
    page, errors = open_page(browser, server.url + "/", DESKTOP)
    try:
        response = page.request.get(server.url + "/")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        # The policy is in force: an inline script is refused (and the browser says so).
        ran = page.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.inlineRan = true';
            document.body.append(s);
            return Boolean(window.inlineRan);
        }""")
    finally:
        page.context.close()
    assert ran is False
    assert len(errors) == 1 and "Content Security Policy" in errors[0]


def test_a_summary_cites_like_an_answer(page: Page, server: LiveServer, shoot: Shoot) -> None:
    from playwright.sync_api import expect

    if "/v1/summarize" not in server.app.openapi()["paths"]:
        pytest.skip("POST /v1/summarize is not served yet")
    with page.expect_response("**/v1/summarize") as response:
        page.get_by_role("row", name=SEED_TITLE).get_by_role("button", name="Summarize").click()
    assert response.value.status == 200, response.value.text()
    summary = response.value.json()
    request = json.loads(response.value.request.post_data or "{}")
    assert request == {"document_id": SEED_ID, "max_sentences": 5}

    view = page.locator("#summary")
    expect(view.get_by_role("heading", name=f"Summary of “{SEED_TITLE}”")).to_be_visible()
    for sentence in summary["sentences"]:
        expect(view.locator(".cited-text")).to_contain_text(sentence["text"])
    citations = [c for s in summary["sentences"] for c in s["citations"]]
    assert citations, "a summary sentence with no citation"
    distinct = {(c["document_id"], c["start"], c["end"]) for c in citations}
    expect(view.locator(".cite-mark")).to_have_count(len(distinct))
    shoot(page, "summary")

    view.get_by_role("button", name="Citation 1", exact=True).click()
    assert_highlight_is(page, server, citations[0])


def test_the_page_filters_by_date_and_shows_superseded_figures(
    page: Page, server: LiveServer, shoot: Shoot
) -> None:
    from playwright.sync_api import expect

    demo = "How many North Korean soldiers have died in the war?"
    expected = api_answer(server, demo)
    assert expected["supersedes"], "the seed gives January's figure beside April's"
    ask_on_page(page, demo, mode="offline")
    expect(page.locator("#answer .answer-text")).to_contain_text(expected["answer"])
    expect(page.get_by_role("heading", name="Older figures, superseded")).to_be_visible()
    first_old = expected["supersedes"][0]
    expect(page.locator("#superseded-source-1")).to_contain_text(first_old["quote"])
    expect(page.locator("#ask-source-1")).to_contain_text(expected["citations"][0]["published"])
    expect(page.locator("#answer .meta")).to_contain_text(f"as of {expected['as_of']}")
    shoot(page, "answer-superseded")

    page.get_by_text("Filter by date or source").click()
    page.get_by_label("As known on").fill("2025-01-15")
    ask_on_page(page, demo, mode="offline")
    expect(page.locator("#answer .abstain-text")).to_contain_text(
        "No stored article matches the filter (published by 2025-01-15)")
    page.get_by_label("As known on").fill("")


STORM_REPORTS = [  # id, published, text: two reports of one story, the later one first
    ("storm-oct17", "2026-10-17",
     "Ingrid Evacuations Nearly Triple\n\nThe number of homes evacuated because of Storm Ingrid "
     "has risen to 3,450, officials said on Friday, after the river Lenne burst its banks."),
    ("storm-oct14", "2026-10-14",
     "Storm Ingrid Forces Evacuations\n\nStorm Ingrid forced authorities to evacuate 1,200 homes "
     "along the Marrow coast on Tuesday, as winds of up to 140 kilometres per hour hit."),
]


@pytest.fixture
def storm_reports(server: LiveServer) -> Iterator[list[str]]:
    for doc_id, published, text in STORM_REPORTS:
        reply = server.api("POST", "/v1/documents", json={
            "id": doc_id, "text": text, "published": published, "source": "Marrow Daily"})
        assert reply.status_code == 200, reply.text
    yield [doc_id for doc_id, _, _ in STORM_REPORTS]
    for doc_id, _, _ in STORM_REPORTS:
        server.api("DELETE", f"/v1/documents/{doc_id}")


def test_a_timeline_of_the_selected_articles_shows_their_dated_sentences_in_order(
    page: Page, server: LiveServer, shoot: Shoot, storm_reports: list[str]
) -> None:
    from playwright.sync_api import expect

    page.reload()
    button = page.get_by_role("button", name="Timeline of the selected articles")
    expect(button).to_be_disabled()
    page.get_by_label("Select “Ingrid Evacuations Nearly Triple” for a timeline").check()
    page.get_by_label("Select “Storm Ingrid Forces Evacuations” for a timeline").check()
    with page.expect_response("**/v1/summarize") as response:
        button.click()
    timeline = response.value.json()
    request = json.loads(response.value.request.post_data or "{}")
    assert request["timeline"] is True and set(request["document_ids"]) == set(storm_reports)
    assert timeline["timeline"] is True

    view = page.locator("#summary")
    expect(view.get_by_role("heading", name="Timeline of 2 articles")).to_be_visible()
    items = view.locator("ol.timeline > li")
    expect(items).to_have_count(len(timeline["sentences"]))
    dates = [s["date"] for s in timeline["sentences"]]
    assert dates == sorted(dates) and dates[0] == "2026-10-14" and dates[-1] == "2026-10-17"
    for n, sentence in enumerate(timeline["sentences"]):
        expect(items.nth(n).locator("time")).to_have_text(sentence["date"])
        expect(items.nth(n)).to_contain_text(sentence["text"])
    shoot(page, "timeline")

    first = timeline["sentences"][0]["citations"][0]
    items.nth(0).locator(".cite-mark").first.click()
    assert_highlight_is(page, server, first)
