"""RSS and Atom feeds through ``factdesk ingest``: a local feed file offline, and ``--feed URL``
against a real HTTP server on 127.0.0.1 that also serves an entry's linked page."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.errors import InvalidInput
from service.feeds import looks_like_feed, read_feed

pytestmark = pytest.mark.integration

BASE = "http://127.0.0.1:{port}"


def rss(base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Velmar Post</title>
  <link>{base}/</link>
  <description>News from the Velmar coast</description>
  <item>
    <title>Velmar harbour dredging to start in May</title>
    <link>{base}/dredging</link>
    <pubDate>Mon, 04 May 2026 08:00:00 GMT</pubDate>
    <content:encoded><![CDATA[<p>The port authority of Velmar said on Monday that dredging
      of the inner harbour will begin on 12 May and cost 8.4 million euros.</p>
      <p>The work will take eleven weeks, the harbour master said.</p>]]></content:encoded>
  </item>
  <item>
    <title>Velmar ferry adds a night crossing</title>
    <link>{base}/ferry</link>
    <pubDate>Wed, 06 May 2026 09:30:00 GMT</pubDate>
    <description>The Velmar ferry company will add a night crossing to Ostra Island from
      1 June, carrying up to 240 passengers, its director said on Wednesday.</description>
  </item>
  <item>
    <title>Velmar harbour dredging to start in May (updated)</title>
    <link>{base}/dredging</link>
    <pubDate>Mon, 04 May 2026 10:00:00 GMT</pubDate>
    <description>A repeat of the first entry's link.</description>
  </item>
  <item>
    <title>Velmar lighthouse repainted</title>
    <link>{base}/lighthouse</link>
    <pubDate>Wed, 01 Apr 2026 12:00:00 GMT</pubDate>
    <description>Painters finished the Velmar lighthouse on Wednesday, using 900 litres of
      white paint over three weeks.</description>
  </item>
  <item>
    <title>Velmar market hall to reopen</title>
    <link>{base}/market.html</link>
    <pubDate>Thu, 07 May 2026 07:00:00 GMT</pubDate>
  </item>
</channel>
</rss>"""


MARKET_PAGE = """<!doctype html><html><head><title>Velmar market hall to reopen</title></head>
<body><article><h1>Velmar market hall to reopen</h1>
<p>The Velmar market hall will reopen on 20 June after a renovation that cost 3.1 million
euros, the town council said on Thursday.</p>
<p>Forty-two stalls have signed new leases, the council said.</p></article></body></html>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Ostra Island Gazette</title>
  <id>urn:ostra</id>
  <updated>2026-05-08T00:00:00Z</updated>
  <entry>
    <title>Ostra school gets a new roof</title>
    <link href="https://ostra.example/roof"/>
    <id>urn:ostra:roof</id>
    <published>2026-05-08T06:00:00Z</published>
    <author><name>Mira Holm</name></author>
    <content type="text">The Ostra primary school got a new roof this week, paid for by a
      grant of 410,000 euros from the island council.</content>
  </entry>
</feed>"""


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("FACTDESK_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving a folder with the feed and one article page."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = BASE.format(port=server.server_address[1])
    (folder / "feed.xml").write_text(rss(base), encoding="utf-8")
    (folder / "market.html").write_text(MARKET_PAGE, encoding="utf-8")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def documents(runner: CliRunner) -> dict[str, dict]:
    listed = runner.invoke(app, ["documents", "--json"])
    assert listed.exit_code == 0, listed.output
    return {d["url"]: d for d in json.loads(listed.stdout)}


def test_read_feed_takes_content_link_date_and_source() -> None:
    read = read_feed(rss("https://velmar.example").encode())
    assert read.title == "Velmar Post" and read.duplicates == 1
    first = read.entries[0].article
    assert first is not None
    assert (first.url, first.published, first.source, first.format) == (
        "https://velmar.example/dredging", "2026-05-04", "Velmar Post", "html")
    assert "8.4 million euros" in str(first.raw)
    # Offline, an entry with no text is an error of its own; the others go on.
    market = next(e for e in read.entries if e.label.endswith("market.html"))
    assert market.article is None and "--feed" in market.error
    since = read_feed(rss("https://velmar.example").encode(), since=date(2026, 5, 5))
    assert since.older == 3 and all(e.article is None or e.article.published >= "2026-05-05"
                                    for e in since.entries)


def test_an_atom_feed_is_read_too() -> None:
    assert looks_like_feed(ATOM.encode())
    (entry,) = read_feed(ATOM.encode()).entries
    assert entry.article is not None
    assert (entry.article.url, entry.article.published, entry.article.author,
            entry.article.source, entry.article.format) == (
        "https://ostra.example/roof", "2026-05-08", "Mira Holm", "Ostra Island Gazette", "text")


def test_not_a_feed_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an RSS or Atom feed"):
        read_feed(b"just some words, no XML at all")


def test_a_local_feed_file_ingests_offline_and_answers_with_exact_citations(
        runner: CliRunner, tmp_path: Path) -> None:
    feed = tmp_path / "velmar.rss"
    feed.write_text(rss("https://velmar.example"), encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(feed), "--since", "2026-05-01"])
    assert result.exit_code == 1, result.output  # the market entry has no text offline
    assert "market.html" in result.stderr and "1 repeated" in result.stderr
    assert result.stdout.count("created") == 2
    stored = documents(runner)
    assert set(stored) == {"https://velmar.example/dredging", "https://velmar.example/ferry"}
    assert stored["https://velmar.example/ferry"]["published"] == "2026-05-06"
    assert stored["https://velmar.example/ferry"]["source"] == "Velmar Post"
    asked = runner.invoke(app, ["ask", "How many passengers will the Velmar night ferry carry?",
                                "--mode", "offline", "--json"])
    answer = json.loads(asked.stdout)
    assert "240" in answer["answer"]
    cited = answer["citations"][0]
    text = next(d for d in json.loads(runner.invoke(app, ["documents", "--json"]).stdout)
                if d["id"] == cited["document_id"])
    assert cited["url"] == "https://velmar.example/ferry" and text["source"] == "Velmar Post"
    again = runner.invoke(app, ["ingest", str(feed), "--since", "2026-05-01"])
    assert again.stdout.count("unchanged") == 2  # the link names the article: no duplicates


def test_a_feed_url_is_fetched_with_the_pages_its_entries_link(
        runner: CliRunner, site: str) -> None:
    result = runner.invoke(app, ["ingest", "--feed", f"{site}/feed.xml", "--since",
                                 "2026-05-01"])
    assert result.exit_code == 0, result.output
    stored = documents(runner)
    assert set(stored) == {f"{site}/dredging", f"{site}/ferry", f"{site}/market.html"}
    assert stored[f"{site}/market.html"]["published"] == "2026-05-07"
    asked = runner.invoke(app, ["ask", "How much did the Velmar market hall renovation cost?",
                                "--mode", "offline", "--json"])
    answer = json.loads(asked.stdout)
    assert "3.1 million" in answer["answer"]
    assert answer["citations"][0]["url"] == f"{site}/market.html"


def test_an_unreachable_feed_fails_clearly_and_stores_nothing(runner: CliRunner,
                                                              site: str) -> None:
    result = runner.invoke(app, ["ingest", "--feed", f"{site}/missing.xml"])
    assert result.exit_code == 2 and "answered 404" in result.output
    bad_since = runner.invoke(app, ["ingest", "--feed", f"{site}/feed.xml", "--since", "soon"])
    assert bad_since.exit_code == 2 and "since 'soon' is not a date" in bad_since.output
    assert documents(runner) == {}
