"""HTML pages: main text and metadata through trafilatura, lxml when it finds nothing."""

from __future__ import annotations

import pytest

from service.domain import ArticleFormat
from service.errors import EmptyDocument
from service.parse import detect_format, parse_article

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Harbour Bridge Reopens After Repairs | Coastal Times</title>
  <meta property="og:title" content="Harbour Bridge Reopens After Repairs">
  <meta property="og:site_name" content="Coastal Times">
  <meta property="og:url" content="https://coastaltimes.example/news/harbour-bridge-reopens">
  <meta name="author" content="Maria Lopez">
  <meta property="article:published_time" content="2025-03-14T08:30:00Z">
  <style>body { font-family: sans-serif; } .nav { color: red; }</style>
  <script>window.analytics = {track: function() {}}; var trackingId = "UA-0000";</script>
</head>
<body>
  <header class="site-header">
    <nav class="nav"><a href="/">Home</a> <a href="/news">News</a>
      <a href="/subscribe">Subscribe now</a></nav>
  </header>
  <main>
    <article>
      <h1>Harbour Bridge Reopens After Repairs</h1>
      <p class="byline">By Maria Lopez</p>
      <p>The Harbour Bridge reopened to traffic on Friday morning after eight months of
        structural repairs that cost the city 42 million dollars, officials said.</p>
      <p>Engineers replaced 120 steel cables and resurfaced the entire deck, according to the
        city's transport department, which oversaw the project.</p>
      <h2>Traffic returns</h2>
      <p>Commuters said the reopening would cut their journey times by up to 25 minutes.
        "It has been a long winter of detours," said one driver, Tom Reed.</p>
      <p>The mayor, Helen Park, thanked residents for their patience and said the bridge
        would be inspected again in 2027.</p>
      <script>console.log("inline script in article");</script>
    </article>
  </main>
  <aside class="related"><h3>Related stories</h3>
    <ul><li><a href="/a">Ferry fares rise</a></li><li><a href="/b">New cycle lanes</a></li></ul>
  </aside>
  <footer><p>© 2025 Coastal Times. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body>
</html>
"""


@pytest.fixture(scope="module")
def page_text() -> str:
    return parse_article(PAGE, filename="bridge.html").text


def test_main_text_is_extracted(page_text: str) -> None:
    assert "The Harbour Bridge reopened to traffic on Friday morning" in page_text
    assert "said one driver, Tom Reed." in page_text
    assert "would be inspected again in 2027." in page_text


def test_page_chrome_and_code_are_left_out(page_text: str) -> None:
    for unwanted in ("Subscribe now", "analytics", "console.log", "font-family", "UA-0000",
                     "All rights reserved", "Ferry fares rise"):
        assert unwanted not in page_text


def test_paragraphs_are_separated_by_blank_lines(page_text: str) -> None:
    assert "officials said.\n\nEngineers replaced" in page_text
    assert "\n\nTraffic returns\n\n" in page_text
    # Source line wraps inside a <p> are not paragraph breaks.
    assert "eight months of structural repairs" in page_text


def test_metadata_is_found() -> None:
    article = parse_article(PAGE)
    assert article.title == "Harbour Bridge Reopens After Repairs"
    assert article.author == "Maria Lopez"
    assert article.published == "2025-03-14"
    assert article.url == "https://coastaltimes.example/news/harbour-bridge-reopens"
    assert article.source == "Coastal Times"


def test_bytes_and_detection() -> None:
    assert detect_format(PAGE) is ArticleFormat.HTML
    assert parse_article(PAGE.encode("utf-8")).text == parse_article(PAGE).text


def test_explicit_metadata_wins() -> None:
    article = parse_article(PAGE, "html", title="Bridge", author="Desk", source="Wire")
    assert (article.title, article.author, article.source) == ("Bridge", "Desk", "Wire")


def test_tiny_page_falls_back_to_plain_extraction() -> None:
    page = (
        "<html><head><title>Notice</title><script>var x = 1;</script></head>"
        "<body><nav>Home | About</nav><div>Office closed Monday.</div><div>Back Tuesday.</div>"
        "</body></html>"
    )
    article = parse_article(page)
    assert "Office closed Monday." in article.text
    assert "var x" not in article.text
    assert article.title


def test_page_without_text_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        parse_article("<html><head><script>var x = 1;</script></head><body></body></html>")


def test_html_output_is_stable_as_text(page_text: str) -> None:
    assert parse_article(page_text, "text").text == page_text
