"""When was a statement made? Its article's date, unless the text dates it earlier.

News repeats older figures beside new ones ("In January, the NIS estimated that 300 soldiers
had died"). The clause a span stands in (its sentence, cut at commas, semicolons and words
such as "while" or "up from") is searched for the dates it names: a full date, or a month
(with or without a year; a month after the article's own falls in the year before), or a
bare year after "in", "since" or "by". The latest of them, when it falls before the article's
own month, is the statement's date: the first day of the month (or of the year) it names. A
clause that names no earlier date is the article's news.
"""

from __future__ import annotations

import re
from datetime import date

from service.parse.dates import find_full_dates
from service.sentences import enclosing_sentences

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_MONTH_NAME = re.compile(
    r"\b(?P<month>January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b(?:\s+(?:[0-3]?\d(?:st|nd|rd|th)?,?\s+)?(?P<year>(?:19|20)\d\d))?")
_IN_YEAR = re.compile(r"\b(?:in|since|by|during|for|of)\s+(?P<year>(?:19|20)\d\d)\b",
                      re.IGNORECASE)
# Where a sentence turns from one statement to another.
_CLAUSE_BREAK = re.compile(
    r"[,;:]|\s(?:while|whereas|but|after|compared with|up from|down from|against)\s",
    re.IGNORECASE)
# "May" is a verb too: a month only after a word that introduces a date.
_MAY_AS_MONTH = re.compile(r"\b(?:in|since|by|during|until|through|early|late|mid-?|last|"
                           r"of|on|and)\s+May\b", re.IGNORECASE)


def statement_date(text: str, start: int, end: int, published: str | None) -> str | None:
    """The date (YYYY-MM-DD) of the statement ``text[start:end]`` stands in, when its clause
    dates it earlier than ``published`` (or at all, when the article has no date); None when
    it is the article's own news."""
    clause, opening = _clause(text, start, end)
    reference = date.fromisoformat(published) if published else None
    # A date opening the sentence ("In January, ...") holds for all of it, unless the span's
    # own clause names one.
    found = _periods_named(clause, reference) or _periods_named(opening, reference)
    if not found:
        return None
    first, last = max(found, key=lambda period: period[1])
    if reference is not None and (last.year, last.month) >= (reference.year, reference.month):
        return None
    return first.isoformat()


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The part of the sentence around ``text[start:end]`` between clause breaks, and the
    sentence's opening phrase (up to its first break, when that is a short one)."""
    s0, s1 = enclosing_sentences(text, start, end)
    sentence = text[s0:s1]
    a, b = start - s0, end - s0
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, a)), default=0)
    right = min((m.start() for m in _CLAUSE_BREAK.finditer(sentence, b)), default=len(sentence))
    first = _CLAUSE_BREAK.search(sentence)
    opening = sentence[: first.start()] if first and first.start() < a else ""
    return sentence[left:right], opening if len(opening.split()) <= 6 else ""


Period = tuple[date, date]  # first and last day


def _periods_named(clause: str, reference: date | None) -> list[Period]:
    named = [(day, day) for day in map(date.fromisoformat, find_full_dates(clause))]
    for match in _MONTH_NAME.finditer(clause):
        if match["month"] == "May" and not _MAY_AS_MONTH.search(clause, 0, match.end()):
            continue
        month = _MONTHS.index(match["month"].lower()) + 1
        if match["year"]:
            year = int(match["year"])
        elif reference is not None:
            year = reference.year if month <= reference.month else reference.year - 1
        else:
            continue
        named.append((date(year, month, 1), date(year, month, 28)))
    named += [(date(int(m["year"]), 1, 1), date(int(m["year"]), 12, 31))
              for m in _IN_YEAR.finditer(clause)]
    return named
