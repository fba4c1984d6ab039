"""News feeds: RSS and Atom, read with feedparser, each entry an article to ingest.

An entry's content (else its summary) is the article, parsed as HTML or text by its declared
type; its link is the article's ``url`` (and so its id: an article with a URL and no id is
named by the URL's hash, so reading a feed again updates rather than duplicates); its
``pubDate`` (or Atom ``published``/``updated``) is ``published``; the feed's title is
``source``. An entry with neither content nor summary is fetched from its link, through the
HTML path, when the feed was fetched too; a local feed file is read offline and such an entry
is reported. Entries repeating an earlier entry's URL or text are left out, and ``since``
leaves out entries published before it (and undated ones, which cannot be shown to be newer).
Each entry fails on its own: the others go on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import feedparser
import httpx

from service.errors import FactdeskError, InvalidInput
from service.ingest import ArticleIn

FEED_SUFFIXES = {".rss", ".atom", ".xml"}
FETCH_TIMEOUT_S = 20.0
MAX_FEED_BYTES = 20_000_000
USER_AGENT = "factdesk (+feed reader)"

Fetch = Callable[[str], bytes]


class FeedFailed(FactdeskError):
    """A feed could not be fetched or is not RSS or Atom."""

    code = "feed_failed"


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed: the article to ingest, or why it cannot be."""

    label: str  # its link, else its title: what a report names it by
    article: ArticleIn | None = None
    error: str = ""


@dataclass
class FeedRead:
    """What a feed gave: its entries, and how many were left out and why."""

    title: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    duplicates: int = 0
    older: int = 0  # before ``since``, or undated when ``since`` is given


def looks_like_feed(raw: bytes) -> bool:
    """RSS, RDF or Atom by its root element, in the first few kilobytes."""
    head = raw[:4096].lower()
    return any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf"))


def fetch_url(url: str) -> bytes:
    """The body at ``url`` (redirects followed), or FeedFailed naming the address."""
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True,
                          headers={"User-Agent": USER_AGENT}) as client:
            reply = client.get(url)
    except httpx.HTTPError as error:
        raise FeedFailed(f"{url} could not be fetched: {error or type(error).__name__}") from error
    if reply.status_code != 200:
        raise FeedFailed(f"{url} answered {reply.status_code}")
    if len(reply.content) > MAX_FEED_BYTES:
        raise FeedFailed(f"{url} is larger than {MAX_FEED_BYTES} bytes")
    return reply.content


def read_feed(raw: bytes, *, since: date | None = None, fetch: Fetch | None = None,
              source: str | None = None) -> FeedRead:
    """The entries of the feed ``raw``. ``fetch`` reads an entry's linked page when the entry
    carries no text; ``source`` overrides the feed's title."""
    parsed = feedparser.parse(raw)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise InvalidInput("not an RSS or Atom feed" + (f": {reason}" if reason else ""))
    title = " ".join(str(parsed.feed.get("title") or "").split()) or None
    read = FeedRead(title)
    seen_urls: set[str] = set()
    seen_texts: set[str] = set()
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip() or None
        published = _entry_date(entry)
        if since is not None and (published is None or published < since):
            read.older += 1
            continue
        if link is not None and link in seen_urls:
            read.duplicates += 1
            continue
        label = link or " ".join(str(entry.get("title") or "untitled entry").split())
        try:
            raw_text, fmt = _entry_text(entry, link, fetch)
        except FactdeskError as error:
            read.entries.append(FeedEntry(label, error=error.message))
            continue
        digest = hashlib.sha256(raw_text if isinstance(raw_text, bytes)
                                else raw_text.encode()).hexdigest()
        if digest in seen_texts:
            read.duplicates += 1
            continue
        seen_texts.add(digest)
        if link is not None:
            seen_urls.add(link)
        article = ArticleIn(
            raw_text, fmt, title=_text(entry.get("title")), url=link,
            published=published.isoformat() if published else None,
            source=source or title, author=_text(entry.get("author")))
        read.entries.append(FeedEntry(label, article))
    return read


def _entry_text(entry: dict, link: str | None, fetch: Fetch | None) -> tuple[str | bytes, str]:
    """The entry's article and its format: its content, else its summary, else its page."""
    for part in entry.get("content") or ():
        if str(part.get("value") or "").strip():
            return part["value"], _format(part.get("type"))
    summary = str(entry.get("summary") or "")
    if summary.strip():
        detail = entry.get("summary_detail") or {}
        return summary, _format(detail.get("type"))
    if link is None:
        raise InvalidInput("the entry has no content, summary or link")
    if fetch is None:
        raise InvalidInput("the entry has no content or summary; its page is fetched only when "
                           "the feed is read from a URL (--feed)")
    return fetch(link), "html"


def _format(content_type: str | None) -> str:
    return "text" if (content_type or "").lower() == "text/plain" else "html"


def _entry_date(entry: dict) -> date | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
    return None


def _text(value: object) -> str | None:
    return " ".join(str(value).split()) or None if value else None
