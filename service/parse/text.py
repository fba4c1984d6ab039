"""Plain text articles, including text copied off a news page with its furniture still in it.

A page dump opens with a header (headline, dek, repeated headline, photo caption, byline,
"Updated:" stamp, audio-player clock) and may close with an author bio. Only those two zones
are cleaned, and only when the evidence is strong: any other plain text keeps every line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.domain import ParsedArticle
from service.parse.dates import find_full_dates, find_month_day, parse_date, with_year

MAX_TITLE_CHARS = 150
# How many non-empty lines after the headline may still belong to the page header.
HEADER_WINDOW = 12
# A prose line has at least this many words; shorter lines are headings or furniture.
PROSE_MIN_WORDS = 8

_AGENCIES = (
    r"AP|AFP|Reuters|Getty Images|EPA(?:-EFE)?|Bloomberg|Shutterstock|Xinhua|Yonhap|Kyodo"
    r"|Alamy|PA(?: Images| Wire)?|ANP|dpa|Sipa(?: USA)?|NurPhoto|ZUMA(?: Press)?|Anadolu"
    r"|Associated Press|The Epoch Times|Pool|Handout"
)
# "... Ahn Young-joon/AP", "... (AP Photo/Ahn Young-joon)", "... via Getty Images"
_AGENCY_CREDIT = re.compile(
    rf"(?:\S\s?/\s?(?:{_AGENCIES})|\((?:{_AGENCIES})(?: Photo)?(?:\s?/[^)]*)?\)"
    rf"|\bvia (?:{_AGENCIES})|\bGetty Images)\.?$"
)
# Any "Name/Organisation" credit; trusted only inside an established page header.
_GENERIC_CREDIT = re.compile(
    r"(?:\b[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3}\s?/\s?[A-Z][\w&.'’-]*(?: [A-Z][\w&.'’-]*){0,3}"
    r"|\((?:Photo|Image|Photograph)(?: by|:)[^)]*\)|\b(?:Photo|Photograph|Credit|Image)(?: by|:) "
    r"[^.]{2,60})\.?$"
)
_CAPTION_OPENING = re.compile(
    r"^(?:(?:Pictured|Photo|Above|Top|Caption|File photo|File)\s*:"
    r"|(?:A|An|The)\s+(?:TV|television)\s+screen\s+shows\b"
    r"|(?:A|An)\s+(?:file\s+|handout\s+)?(?:photo|image|picture|photograph)\s+(?:shows|of)\b)",
    re.IGNORECASE,
)

_NAME_WORD = r"(?:[A-Z][a-z]+(?:-[A-Za-z][a-z]+|['’][A-Z][a-z]+)*|[A-Z]\.)"
_NAME = rf"{_NAME_WORD}(?: {_NAME_WORD}){{1,3}}"
_NAME_LINE = re.compile(rf"^{_NAME}$")
_BY_LINE = re.compile(
    rf"^By:?\s+(?P<names>{_NAME}(?:(?:,\s*|\s+and\s+|\s*&\s*){_NAME})*)(?:\s*[,|–—-]\s*.{{0,40}})?$"
)
_BIO_LINE = re.compile(
    rf"^(?P<name>{_NAME})\s+(?:is|was|has|writes|covers|reports|joined|worked|specializes"
    r"|specialises|serves)\b"
)
_AUTHOR_LABEL = re.compile(
    r"^(?:author|about the author|author bio|contributor|reporter|staff writer)$", re.IGNORECASE
)

_DATE_LABEL = re.compile(
    r"^(?P<label>updated|published|posted|last updated|last modified|modified|first published"
    r"|date)(?:\s+on)?\s*:?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_CLOCK_OR_DURATION = re.compile(
    r"^(?:\d{1,2}:\d{2}(?::\d{2})?|\d+\s*min(?:ute)?s?(?:\s+(?:read|listen))?)$", re.IGNORECASE
)
_UI_STRINGS = frozenset(
    {
        "share", "share this", "share this article", "share article", "print", "listen",
        "listen to this article", "listen to article", "comments", "comment", "show comments",
        "view comments", "email", "e-mail", "save", "save article", "copy link", "tweet",
        "facebook", "twitter", "x", "linkedin", "whatsapp", "reddit", "telegram",
        "advertisement", "subscribe", "sign in", "log in", "font size", "text size",
        "read more", "gift article", "bookmark", "audio", "play", "pause", "follow",
    }
)  # fmt: skip
_UI_COUNTED = re.compile(r"^(?:\d+\s+)?(?:comments?|shares?)(?:\s*\(\d+\))?$", re.IGNORECASE)


def normalise_text(text: str) -> str:
    """The canonical form every char offset refers to: LF newlines, no trailing spaces,
    at most one blank line in a row, no surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_text(text: str) -> ParsedArticle:
    """Parse plain text; an unknown title is returned as an empty string."""
    lines = normalise_text(text).split("\n")
    title_index = _title_index(lines)
    title = lines[title_index] if title_index is not None else ""
    header = _clean_header(lines, title_index)
    body, footer = _strip_author_block(header.lines, header.author)
    author = header.author or footer.author
    published = header.published or _infer_published(header, body)
    return ParsedArticle(
        text=normalise_text("\n".join(body)),
        title=title,
        author=author,
        published=published,
        furniture=tuple(header.furniture + footer.furniture),
    )


def _title_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if line.strip():
            return index if len(line.strip()) <= MAX_TITLE_CHARS else None
    return None


@dataclass
class _Header:
    lines: list[str]
    end: int = -1  # index in ``lines`` of the last header line; -1 when there is no header
    author: str | None = None
    published: str | None = None
    furniture: list[str] = field(default_factory=list)

    @property
    def is_page_dump(self) -> bool:
        return self.end >= 0


def _clean_header(lines: list[str], title_index: int | None) -> _Header:
    start = 0 if title_index is None else title_index + 1
    title = lines[title_index].strip() if title_index is not None else None
    end = _header_end(lines, start, title)
    if end < start:
        return _Header(lines=list(lines))
    header = _Header(lines=list(lines[:start]))
    dates: dict[str, str] = {}
    for line in lines[start : end + 1]:
        if not _consume_header_line(line.strip(), title, header, dates):
            header.lines.append(line)
    header.end = len(header.lines) - 1
    header.lines.extend(lines[end + 1 :])
    header.published = dates.get("published") or dates.get("updated")
    return header


def _header_end(lines: list[str], start: int, title: str | None) -> int:
    """Index of the last header line, or ``start - 1`` when the text has no page header.

    The header is proven by strong signals (repeated headline, date stamp, player clock,
    share buttons, agency photo credit); it then extends over bylines and captions that
    directly follow the last signal.
    """
    last_signal = start - 1
    seen = 0
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line:
            continue
        seen += 1
        if seen > HEADER_WINDOW:
            break
        if _is_strong_signal(line, title):
            last_signal = index
    if last_signal < start:
        return last_signal
    end = last_signal
    for index in range(last_signal + 1, len(lines)):
        line = lines[index].strip()
        if line and not (_byline_author(line, title) or _is_caption(line, trusted_header=True)):
            break
        end = index if line else end
    return end


def _is_strong_signal(line: str, title: str | None) -> bool:
    return (
        (title is not None and _same_line(line, title))
        or _date_stamp(line) is not None
        or _is_ui_line(line)
        or _BY_LINE.match(line) is not None
        or _is_caption(line, trusted_header=False)
    )


def _consume_header_line(
    line: str, title: str | None, header: _Header, dates: dict[str, str]
) -> bool:
    """Record what a header line tells us; True when the line is furniture to drop."""
    if not line:
        return False
    if title is not None and _same_line(line, title):
        return True
    stamp = _date_stamp(line)
    if stamp is not None:
        kind, iso = stamp
        if iso:
            dates.setdefault(kind, iso)
        return True
    if _is_ui_line(line):
        return True
    if _is_caption(line, trusted_header=True):
        header.furniture.append(line)
        return True
    author = _byline_author(line, title)
    if author and (header.author is None or header.author == author):
        header.author = author
        return True
    return False


def _same_line(line: str, title: str) -> bool:
    return " ".join(line.split()).casefold() == " ".join(title.split()).casefold()


def _date_stamp(line: str) -> tuple[str, str | None] | None:
    """("published" | "updated", ISO date or None) for a date line, else None."""
    labelled = _DATE_LABEL.match(line)
    if labelled:
        rest = labelled["rest"].strip()
        iso = parse_date(rest) if rest else None
        if rest and iso is None:
            return None  # "Updated" followed by prose is a sentence, not a stamp
        label = labelled["label"].lower()
        return ("updated" if "updated" in label or "modified" in label else "published"), iso
    if len(line) <= 60:
        iso = parse_date(line)
        if iso:
            return "published", iso
    return None


def _is_ui_line(line: str) -> bool:
    bare = line.strip(" .:|•·").casefold()
    return bare in _UI_STRINGS or _CLOCK_OR_DURATION.match(bare) is not None or bool(
        _UI_COUNTED.match(bare)
    )


def _is_caption(line: str, *, trusted_header: bool) -> bool:
    if len(line.split()) < PROSE_MIN_WORDS:
        return False
    if _AGENCY_CREDIT.search(line):
        return True
    if not trusted_header:
        return False
    return bool(_GENERIC_CREDIT.search(line) or _CAPTION_OPENING.match(line))


def _byline_author(line: str, title: str | None) -> str | None:
    if title is not None and _same_line(line, title):
        return None
    by = _BY_LINE.match(line)
    if by:
        return by["names"].strip()
    return line if _NAME_LINE.match(line) else None


@dataclass
class _Footer:
    author: str | None = None
    furniture: list[str] = field(default_factory=list)


def _strip_author_block(lines: list[str], author: str | None) -> tuple[list[str], _Footer]:
    """Drop a closing author block: the name (often repeated), an "Author" label and a bio
    that starts with the name. Without a bio and a name or label to confirm it, keep all."""
    run = _trailing_block_run(lines)
    bio_names = {m["name"] for i in run if (m := _BIO_LINE.match(lines[i].strip()))}
    labels = [i for i in run if _AUTHOR_LABEL.match(lines[i].strip())]
    name_lines = {lines[i].strip() for i in run if _NAME_LINE.match(lines[i].strip())}
    if not bio_names or not (labels or bio_names & name_lines):
        return list(lines), _Footer()
    known = bio_names | ({author} if author else set())
    # A name line that names someone else belongs to the article, and so does all above it.
    foreign = [i for i in run if lines[i].strip() in name_lines - known]
    run = [i for i in run if not foreign or i > foreign[-1]]
    bios = [lines[i].strip() for i in run if _BIO_LINE.match(lines[i].strip())]
    if not bios:
        return list(lines), _Footer()
    first_bio = _BIO_LINE.match(bios[0])
    footer = _Footer(author=first_bio["name"] if first_bio else None, furniture=bios)
    return lines[: run[0]], footer


def _trailing_block_run(lines: list[str]) -> list[int]:
    """Indices of the trailing lines that could form an author block, in order."""
    run: list[int] = []
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].strip()
        if not line:
            continue
        if not (_BIO_LINE.match(line) or _AUTHOR_LABEL.match(line) or _NAME_LINE.match(line)):
            break
        run.append(index)
    return run[::-1]


def _infer_published(header: _Header, body: list[str]) -> str | None:
    """Date a page dump whose header carries no stamp, from the lead paragraph.

    News leads say "on April 30" without the year; the year comes from a full date elsewhere
    on the page, captions first since they are dated closest to publication.
    """
    if not header.is_page_dump:
        return None
    lead = _lead_paragraph(body, header.end + 1)
    if lead is None:
        return None
    full_in_lead = find_full_dates(lead)
    if full_in_lead:
        return full_in_lead[0]
    month_day = find_month_day(lead)
    if month_day is None:
        return None
    references = find_full_dates("\n".join(header.furniture)) or find_full_dates("\n".join(body))
    if not references:
        return None
    return with_year(*month_day, references[0])


def _lead_paragraph(lines: list[str], start: int) -> str | None:
    for line in lines[start:]:
        if len(line.split()) >= PROSE_MIN_WORDS:
            return line.strip()
    return None
