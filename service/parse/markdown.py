"""Markdown articles: YAML front matter for metadata, the body reduced to plain text.

Markup that carries no words (heading hashes, emphasis, link targets, images, comments) is
removed so that quotes match what a reader sees; paragraphs become one line each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from service.domain import ParsedArticle
from service.errors import InvalidInput
from service.parse.dates import parse_date
from service.parse.text import normalise_text

_FRONT_MATTER_OPEN = "---"
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)\s*$")

_FENCE = re.compile(r"^\s{0,3}(?P<marker>`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})(?:\s+(?P<text>.*?))?(?:\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(?P<char>=|-)+\s*$")
_THEMATIC_BREAK = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?P<bullet>[-*+]|\d{1,9}[.)])\s+(?P<text>.*)$")
_BLOCKQUOTE = re.compile(r"^\s{0,3}>\s?")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

_IMAGE = re.compile(r"!\[[^\]]*\](?:\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)|\[[^\]]*\])")
_INLINE_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^)]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'))?\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_EM_STAR = re.compile(r"\*(?=\S)([^*]+?)(?<=\S)\*")
_EM_UNDERSCORE = re.compile(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
# Escaped characters hide in a private-use range while markup is stripped.
_ESCAPE_BASE = 0xE000


def parse_markdown(text: str) -> ParsedArticle:
    """Parse Markdown; an unknown title is returned as an empty string."""
    meta, body = split_front_matter(text.replace("\r\n", "\n").replace("\r", "\n"))
    rendered = _MarkdownRenderer().render(body)
    return ParsedArticle(
        text=normalise_text(rendered.text),
        title=_meta_text(meta, "title") or rendered.first_h1 or "",
        author=_meta_author(meta),
        published=_meta_published(meta),
        url=_meta_text(meta, "url", "link", "canonical_url"),
        source=_meta_text(meta, "source", "publisher", "site", "sitename"),
    )


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML front matter mapping (empty when absent) and the Markdown after it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FRONT_MATTER_OPEN:
        return {}, text
    for index in range(1, len(lines)):
        if _FRONT_MATTER_CLOSE.match(lines[index]):
            return _load_front_matter("\n".join(lines[1:index])), "\n".join(lines[index + 1 :])
    raise InvalidInput("Markdown front matter is not closed: add a '---' line after it.")


def _load_front_matter(block: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"Markdown front matter is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("Markdown front matter must be a mapping of keys to values.")
    return {str(key).lower(): value for key, value in data.items()}


def _meta_text(meta: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            return str(value).strip()
    return None


def _meta_author(meta: dict[str, Any]) -> str | None:
    value = meta.get("author", meta.get("authors"))
    if isinstance(value, list):
        names = [str(name).strip() for name in value if str(name).strip()]
        return ", ".join(names) or None
    return _meta_text(meta, "author", "authors")


def _meta_published(meta: dict[str, Any]) -> str | None:
    for key in ("published", "date", "pubdate", "published_at"):
        value = meta.get(key)
        if isinstance(value, (str, date)):
            return parse_date(value)
    return None


def clean_inline(text: str) -> str:
    """Plain words of one line of Markdown: no emphasis, link targets, images or tags."""
    text = _ESCAPE.sub(lambda m: chr(_ESCAPE_BASE + ord(m.group(1))), text)
    parts: list[str] = []
    position = 0
    # Code spans are literal: strip markup around them, never inside them.
    for span in _CODE_SPAN.finditer(text):
        parts.append(_strip_markup(text[position : span.start()]))
        parts.append(span.group(2).strip())
        position = span.end()
    parts.append(_strip_markup(text[position:]))
    joined = re.sub(r"[ \t]{2,}", " ", "".join(parts)).strip()
    return "".join(
        chr(ord(char) - _ESCAPE_BASE) if _ESCAPE_BASE <= ord(char) < _ESCAPE_BASE + 128 else char
        for char in joined
    )


def _strip_markup(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _INLINE_LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        text = _STRONG.sub(r"\2", text)
        text = _STRIKE.sub(r"\1", text)
        text = _EM_STAR.sub(r"\1", text)
        text = _EM_UNDERSCORE.sub(r"\1", text)
    return text


@dataclass
class _Rendered:
    text: str
    first_h1: str | None


@dataclass
class _MarkdownRenderer:
    """Line-by-line block reader: enough Markdown for articles, not a full CommonMark parser."""

    blocks: list[str] = field(default_factory=list)
    paragraph: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    first_h1: str | None = None

    def render(self, body: str) -> _Rendered:
        for kind, chunk in _split_code_fences(body):
            if kind == "code":
                self._flush()
                self.blocks.append(chunk)
            else:
                for line in _HTML_COMMENT.sub("", chunk).split("\n"):
                    self._read_line(line)
        self._flush()
        text = "\n\n".join(block for block in self.blocks if block.strip())
        return _Rendered(text=text, first_h1=self.first_h1)

    def _read_line(self, line: str) -> None:
        quoted = _BLOCKQUOTE.match(line)
        if quoted:
            line = line[quoted.end() :]
        if not line.strip():
            self._flush()
        elif self._read_heading(line):
            pass
        elif _THEMATIC_BREAK.match(line):
            self._flush()
        elif _LINK_DEFINITION.match(line):
            pass
        elif "|" in line and (_TABLE_SEPARATOR.match(line) or self.rows or _looks_like_row(line)):
            self._read_table_row(line)
        elif item := _LIST_ITEM.match(line):
            self._read_list_item(item)
        elif self.items and line.startswith((" ", "\t")):
            self.items[-1] += " " + clean_inline(line.strip())
        else:
            self._flush_lists()
            self.paragraph.append(line)

    def _read_heading(self, line: str) -> bool:
        atx = _ATX_HEADING.match(line)
        if atx:
            self._flush()
            self._add_heading(clean_inline(atx["text"] or ""), level=len(atx["hashes"]))
            return True
        underline = _SETEXT_UNDERLINE.match(line)
        if underline and self.paragraph:
            heading = clean_inline(" ".join(part.strip() for part in self.paragraph))
            self.paragraph = []
            self._flush()
            self._add_heading(heading, level=1 if underline["char"] == "=" else 2)
            return True
        return False

    def _add_heading(self, text: str, *, level: int) -> None:
        if not text:
            return
        if level == 1 and self.first_h1 is None:
            self.first_h1 = text
        self.blocks.append(text)

    def _read_list_item(self, item: re.Match[str]) -> None:
        self._flush_paragraph()
        self._flush_rows()
        depth = min(len(item["indent"].expandtabs(4)) // 2, 4)
        bullet = "-" if item["bullet"] in "-*+" else item["bullet"]
        self.items.append("  " * depth + f"{bullet} " + clean_inline(item["text"]))

    def _read_table_row(self, line: str) -> None:
        self._flush_paragraph()
        self._flush_lists()
        if _TABLE_SEPARATOR.match(line):
            return
        cells = [clean_inline(cell) for cell in line.strip().strip("|").split("|")]
        self.rows.append(" | ".join(cells))

    def _flush(self) -> None:
        self._flush_paragraph()
        self._flush_lists()
        self._flush_rows()

    def _flush_paragraph(self) -> None:
        if not self.paragraph:
            return
        # Two trailing spaces or a backslash is a hard line break; other newlines are wraps.
        lines: list[str] = [""]
        for raw in self.paragraph:
            hard = raw.endswith("  ") or raw.rstrip().endswith("\\")
            piece = raw.strip().removesuffix("\\").rstrip() if hard else raw.strip()
            lines[-1] = (lines[-1] + " " + piece).strip()
            if hard:
                lines.append("")
        self.blocks.append("\n".join(clean_inline(line) for line in lines if line))
        self.paragraph = []

    def _flush_lists(self) -> None:
        if self.items:
            self.blocks.append("\n".join(self.items))
            self.items = []

    def _flush_rows(self) -> None:
        if self.rows:
            self.blocks.append("\n".join(self.rows))
            self.rows = []


def _looks_like_row(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 2


def _split_code_fences(body: str) -> list[tuple[str, str]]:
    """("markdown" | "code", text) segments; fenced code keeps its content verbatim."""
    segments: list[tuple[str, str]] = []
    current: list[str] = []
    fence: str | None = None
    for line in body.split("\n"):
        opening = _FENCE.match(line)
        if fence is None and opening:
            segments.append(("markdown", "\n".join(current)))
            current, fence = [], opening["marker"]
        elif fence is not None and _closes_fence(line, fence):
            segments.append(("code", "\n".join(current)))
            current, fence = [], None
        else:
            current.append(line)
    segments.append(("code" if fence else "markdown", "\n".join(current)))
    return segments


def _closes_fence(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and not stripped.strip(fence[0])
