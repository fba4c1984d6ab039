"""Reading the publication dates news pages print, in the handful of shapes they use."""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

_ISO = re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?![\d])")
# "April 30, 2025", "Apr. 30 2025"
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE)
# "30 April 2025", "30 Apr, 2025"
_DAY_MONTH_YEAR = re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE)
# "April 30" / "30 April" with no year; the year must come from elsewhere.
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?!,?\s+\d)", re.IGNORECASE)
_DAY_MONTH = re.compile(rf"\b{_DAY}\s+{_MONTH}(?!\w)(?!,?\s+\d)", re.IGNORECASE)

# Weekdays, times and zones that may surround a date without changing it.
_WEEKDAY = re.compile(
    r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?", re.IGNORECASE
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?", re.IGNORECASE)
_ZONE = re.compile(r"\b(?:[A-Z]{2,4}|UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?\b")
_SEPARATORS = re.compile(r"\bat\b|[\s,|\-–—/()@]+", re.IGNORECASE)


def _to_iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _month_number(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def parse_date(value: str | date | datetime) -> str | None:
    """The ISO ``YYYY-MM-DD`` form of a date written in a common way, or None.

    The whole value must be a date (optionally with weekday and time), so prose that merely
    mentions a date is not mistaken for one.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = value.strip()
    if not text:
        return None
    iso = _ISO.match(text)
    if iso and _is_only_decoration(text[iso.end() :]):
        return _to_iso(int(iso["year"]), int(iso["month"]), int(iso["day"]))
    for pattern in (_MONTH_DAY_YEAR, _DAY_MONTH_YEAR):
        found = pattern.search(text)
        rest = text[: found.start()] + " " + text[found.end() :] if found else ""
        if found and _is_only_decoration(rest):
            return _to_iso(int(found["year"]), _month_number(found["month"]), int(found["day"]))
    return None


def _is_only_decoration(rest: str) -> bool:
    # ISO timestamps carry "T10:00:00Z"-style tails; spoken dates carry weekdays and times.
    rest = re.sub(r"^T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?", "", rest.strip())
    for pattern in (_WEEKDAY, _TIME, _ZONE, _SEPARATORS):
        rest = pattern.sub("", rest)
    return not rest


def find_full_dates(text: str) -> list[str]:
    """Every complete date (with a year) written out in ``text``, in order of appearance."""
    found: list[tuple[int, str]] = []
    for pattern in (_MONTH_DAY_YEAR, _DAY_MONTH_YEAR):
        for match in pattern.finditer(text):
            iso = _to_iso(int(match["year"]), _month_number(match["month"]), int(match["day"]))
            if iso:
                found.append((match.start(), iso))
    for match in _ISO.finditer(text):
        iso = _to_iso(int(match["year"]), int(match["month"]), int(match["day"]))
        if iso:
            found.append((match.start(), iso))
    return [iso for _, iso in sorted(found)]


def find_month_day(text: str) -> tuple[int, int] | None:
    """The first yearless "Month Day" or "Day Month" date in ``text`` as (month, day)."""
    candidates: list[tuple[int, int, int]] = []
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        match = pattern.search(text)
        if match and _is_plausible_month_word(match):
            candidates.append((match.start(), _month_number(match["month"]), int(match["day"])))
    if not candidates:
        return None
    _, month, day = min(candidates)
    return (month, day) if 1 <= day <= 31 else None


def _is_plausible_month_word(match: re.Match[str]) -> bool:
    # "May" is also a verb; only trust it when written with a capital as a month would be.
    word = match["month"]
    return word.lower() != "may" or word == "May"


def with_year(month: int, day: int, reference_iso: str) -> str | None:
    """Date the yearless (month, day) in the year of a reference date found on the page.

    A page's dated items (captions, earlier events) precede its publication, so a result more
    than half a year before the reference is taken to belong to the following year.
    """
    reference = date.fromisoformat(reference_iso)
    candidate = _to_iso(reference.year, month, day)
    if candidate is None:
        return None
    if (reference - date.fromisoformat(candidate)).days > 183:
        return _to_iso(reference.year + 1, month, day)
    return candidate
