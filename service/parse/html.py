"""HTML pages: trafilatura finds the article body and its metadata; lxml is the fallback
for pages it declines (too short, no recognisable article), so no page with text is lost."""

from __future__ import annotations

import copy
import re
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.metadata import extract_metadata

from service.domain import ParsedArticle
from service.parse.dates import parse_date
from service.parse.text import normalise_text

# Guessing a date from body text ("Copyright 2023" -> 2023-01-01) is worse than no date.
_DATE_PARAMS: dict[str, Any] = {"extensive_search": False, "original_date": True}

_NEVER_TEXT = ("script", "style", "noscript", "template", "svg", "iframe", "object", "head")
_LAYOUT = ("nav", "header", "footer", "aside", "form", "button", "menu")
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li",
        "ul", "ol", "pre", "blockquote", "table", "tr", "figure", "figcaption", "dl", "dt",
        "dd", "br", "hr", "header", "footer", "nav", "aside", "address", "body",
    }
)  # fmt: skip


def parse_html(html: str) -> ParsedArticle:
    """Parse an HTML page; an unknown title is returned as an empty string."""
    document = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        date_extraction_params=_DATE_PARAMS,
    )
    text = _render_body(document.body) if document is not None and document.body is not None else ""
    if not text:
        text = fallback_text(html)
        document = _metadata_only(html)
    return ParsedArticle(
        text=text,
        title=_clean(getattr(document, "title", None)) or _first_heading(html) or "",
        author=_clean(getattr(document, "author", None)),
        published=parse_date(getattr(document, "date", None) or ""),
        url=_clean(getattr(document, "url", None)),
        source=_clean(getattr(document, "sitename", None) or getattr(document, "hostname", None)),
    )


def _metadata_only(html: str) -> Any:
    try:
        return extract_metadata(html, date_config=_DATE_PARAMS)
    except Exception:  # metadata is optional; a page that breaks it still has its text
        return None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _render_body(body: etree._Element) -> str:
    """Blank-line separated blocks from trafilatura's XML body (head, p, list, table, ...)."""
    blocks: list[str] = []
    for element in body:
        tag = element.tag
        if tag == "list":
            block = "\n".join(f"- {_inline(item)}" for item in element.iter("item"))
        elif tag == "table":
            rows = element.iter("row")
            block = "\n".join(" | ".join(_inline(cell) for cell in row.iter("cell")) for row in rows)
        elif tag == "code":
            block = "".join(element.itertext()).strip("\n")
        else:
            block = _inline(element)
        if block.strip():
            blocks.append(block)
    return normalise_text("\n\n".join(blocks))


def _inline(element: etree._Element) -> str:
    """Text of an element with <lb/> kept as a newline and other whitespace collapsed."""
    pieces: list[str] = []
    for node in element.iter():
        if node is not element and node.tag == "lb":
            pieces.append("\n")
        elif node.text:
            pieces.append(node.text)
        if node is not element and node.tail:
            pieces.append(node.tail)
    lines = ("".join(pieces)).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def fallback_text(html: str) -> str:
    """All readable text of a page, one block per block element; layout regions are left
    out unless they are all the page has."""
    root = _parse(html)
    if root is None:
        return ""
    for drop_layout in (True, False):
        tree = _without(root, _NEVER_TEXT + (_LAYOUT if drop_layout else ()))
        text = _block_text(tree)
        if text:
            return text
    return ""


def _parse(html: str) -> Any:
    try:
        parser = lxml.html.HTMLParser(encoding="utf-8")
        return lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _without(root: Any, tags: tuple[str, ...]) -> Any:
    tree = copy.deepcopy(root)
    for element in list(tree.iter(*tags)):
        element.drop_tree()
    for comment in list(tree.iter(etree.Comment)):
        comment.drop_tree()
    return tree


def _block_text(tree: Any) -> str:
    pieces: list[str] = []
    for event, element in etree.iterwalk(tree, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue
        is_block = element.tag in _BLOCK_TAGS
        if event == "start":
            if is_block:
                pieces.append("\n\n")
            pieces.append(element.text or "")
        else:
            if is_block:
                pieces.append("\n\n")
            if element is not tree:
                pieces.append(element.tail or "")
    paragraphs = re.split(r"\n\s*\n", "".join(pieces))
    return normalise_text("\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip()))


def _first_heading(html: str) -> str | None:
    root = _parse(html)
    if root is None:
        return None
    for tag in ("title", "h1"):
        found = root.find(f".//{tag}")
        if found is not None and _clean(found.text_content()):
            return _clean(found.text_content())
    return None
