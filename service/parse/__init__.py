"""Turning an uploaded article (plain text, Markdown, HTML or PDF) into its answerable text.

``parse_article`` is the one entry point: it decodes, picks the format, runs that format's
parser and settles the metadata, explicit values first.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePath

from service.domain import ArticleFormat, ParsedArticle
from service.errors import EmptyDocument, InvalidInput, UnsupportedFormat
from service.parse.dates import parse_date
from service.parse.html import parse_html
from service.parse.markdown import parse_markdown
from service.parse.pdf import is_pdf, parse_pdf
from service.parse.text import normalise_text, parse_text

__all__ = ["detect_format", "parse_article"]

FALLBACK_TITLE_CHARS = 120

_EXTENSIONS: dict[str, ArticleFormat] = {
    ".txt": ArticleFormat.TEXT,
    ".text": ArticleFormat.TEXT,
    ".md": ArticleFormat.MARKDOWN,
    ".markdown": ArticleFormat.MARKDOWN,
    ".html": ArticleFormat.HTML,
    ".htm": ArticleFormat.HTML,
    ".xhtml": ArticleFormat.HTML,
    ".pdf": ArticleFormat.PDF,
}
_FORMAT_NAMES: dict[str, ArticleFormat] = {
    **{member.value: member for member in ArticleFormat},
    "txt": ArticleFormat.TEXT,
    "plain": ArticleFormat.TEXT,
    "md": ArticleFormat.MARKDOWN,
    "htm": ArticleFormat.HTML,
}

_HTML_DOCUMENT = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_STRUCTURE = re.compile(r"<(?:head|body)\b[^>]*>", re.IGNORECASE)
_HTML_BLOCK_TAG = re.compile(
    r"</?(?:p|div|article|section|h[1-6]|ul|ol|li|br|span|a|table|main)\b[^>]*>", re.IGNORECASE
)
_MD_FRONT_MATTER = re.compile(r"^---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|$)", re.DOTALL)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[[^\]\n]+\]\([^)\s]+(?:\s+\"[^\"]*\")?\)")
_MD_FENCE = re.compile(r"^(?:```|~~~)", re.MULTILINE)
# Tag-soup fragments with a few block tags are HTML even without <html>.
MIN_HTML_TAGS = 3


def parse_article(
    raw: str | bytes,
    fmt: ArticleFormat | str | None = None,
    *,
    filename: str | None = None,
    title: str | None = None,
    url: str | None = None,
    published: str | None = None,
    source: str | None = None,
    author: str | None = None,
) -> ParsedArticle:
    """Parse one article (a PDF as its bytes). Explicit metadata overrides whatever the
    document says."""
    article_format = resolve_format(fmt) if fmt is not None else detect_format(raw, filename)
    if article_format is ArticleFormat.PDF:
        parsed = parse_pdf(raw)
    else:
        content = decode(raw)
        if not content.strip():
            raise EmptyDocument("The document is empty.")
        parsed = _PARSERS[article_format](content)
    text = normalise_text(parsed.text)
    if not text:
        raise EmptyDocument(f"No text was found in the {article_format.value} document.")
    return replace(
        parsed,
        text=text,
        title=_explicit(title) or _clean_title(parsed.title) or _fallback_title(text, filename),
        author=_explicit(author) or parsed.author,
        published=_explicit_date(published) if _explicit(published) else parsed.published,
        url=_explicit(url) or parsed.url,
        source=_explicit(source) or parsed.source,
        format=article_format.value,
    )


def decode(raw: str | bytes) -> str:
    """The document as text: bytes must be UTF-8; a byte-order mark is dropped."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"The document is not valid UTF-8 (bad byte at position {exc.start}); "
                "re-save it as UTF-8."
            ) from exc
    return raw.removeprefix("\ufeff")


def resolve_format(fmt: ArticleFormat | str) -> ArticleFormat:
    if isinstance(fmt, ArticleFormat):
        return fmt
    found = _FORMAT_NAMES.get(str(fmt).strip().lower())
    if found is None:
        supported = ", ".join(member.value for member in ArticleFormat)
        raise UnsupportedFormat(f"Unsupported format {fmt!r}; supported formats: {supported}.")
    return found


def detect_format(raw: str | bytes, filename: str | None = None) -> ArticleFormat:
    """The format named by the file extension, else the one the content looks like."""
    if filename:
        by_extension = _EXTENSIONS.get(PurePath(filename).suffix.lower())
        if by_extension is not None:
            return by_extension
    if is_pdf(raw):
        return ArticleFormat.PDF
    content = decode(raw)
    if _looks_like_html(content):
        return ArticleFormat.HTML
    if _looks_like_markdown(content):
        return ArticleFormat.MARKDOWN
    return ArticleFormat.TEXT


def _looks_like_html(content: str) -> bool:
    return bool(
        _HTML_DOCUMENT.match(content)
        or _HTML_STRUCTURE.search(content)
        or len(_HTML_BLOCK_TAG.findall(content)) >= MIN_HTML_TAGS
    )


def _looks_like_markdown(content: str) -> bool:
    stripped = content.lstrip("\ufeff")
    return bool(
        _MD_FRONT_MATTER.match(stripped)
        or _MD_HEADING.search(stripped)
        or _MD_LINK.search(stripped)
        or _MD_FENCE.search(stripped)
    )


_PARSERS = {
    ArticleFormat.TEXT: parse_text,
    ArticleFormat.MARKDOWN: parse_markdown,
    ArticleFormat.HTML: parse_html,
}


def _explicit(value: str | None) -> str | None:
    # An empty form field means "not given", not "blank it out".
    if value is None:
        return None
    return " ".join(value.split()) or None


def _explicit_date(value: str | None) -> str:
    iso = parse_date(value or "")
    if iso is None:
        raise InvalidInput(
            f"published {value!r} is not a date; use YYYY-MM-DD or e.g. 'April 30, 2025'."
        )
    return iso


def _clean_title(title: str) -> str | None:
    # A rule line or a row of symbols above the text is not a title.
    title = " ".join(title.split())
    return title if re.search(r"\w", title) else None


def _fallback_title(text: str, filename: str | None) -> str:
    """The first line, cut to its first sentence and ~120 chars; the file name if wordless."""
    first_line = text.split("\n", 1)[0].strip()
    candidate = first_line
    if len(candidate) > FALLBACK_TITLE_CHARS:
        sentence = re.match(r"^(.+?[.!?])(?:\s|$)", candidate)
        candidate = sentence.group(1) if sentence else candidate
    if len(candidate) > FALLBACK_TITLE_CHARS:
        cut = candidate[:FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:-")
        candidate = cut + "…"
    if re.search(r"\w", candidate):
        return candidate
    if filename:
        return PurePath(filename).stem
    return "Untitled"
