"""Sentence spans with exact char offsets, fast enough to run at question time.

Line breaks always end a sentence (headlines, headings and list items are lines of their own);
inside a line a sentence ends at ., ! or ? (and any closing quote or bracket) followed by space
and a capital, digit or opening quote, unless the word before the dot is a known abbreviation
or an initial.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sen rep gov gen col lt sgt capt cmdr adm st jr sr rev hon pres
    jan feb mar apr jun jul aug sep sept oct nov dec no nos vs etc inc ltd co corp dept est
    approx fig u.s u.k u.n e.g i.e a.m p.m""".split()
)

_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of ``text[start:end]``, as offsets into ``text``."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    line_start = start
    while line_start < end:
        line_end = text.find("\n", line_start, end)
        if line_end < 0:
            line_end = end
        _split_line(text, line_start, line_end, spans)
        line_start = line_end + 1
    return spans


def enclosing_sentences(text: str, start: int, end: int) -> tuple[int, int]:
    """The span ``text[start:end]`` widened to the whole sentences of its line it touches."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    wide_start, wide_end = start, end
    for a, b in sentence_spans(text, line_start, line_end):
        if a <= start < b:
            wide_start = min(wide_start, a)
        if a < end <= b:
            wide_end = max(wide_end, b)
    return wide_start, wide_end


def _split_line(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    line = text[start:end]
    piece_start = 0
    for match in _BOUNDARY.finditer(line):
        if _is_abbreviation(line[piece_start : match.start() + 1]):
            continue
        _add_span(text, start + piece_start, start + match.end(), spans)
        piece_start = match.end()
    _add_span(text, start + piece_start, end, spans)


def _is_abbreviation(piece: str) -> bool:
    found = _LAST_WORD.search(piece)
    if not found:
        return False
    word = found.group(1)
    if len(word) == 1 and word.isupper():  # an initial, as in "J. Smith"
        return True
    return word.lower().rstrip(".") in _ABBREVIATIONS


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
