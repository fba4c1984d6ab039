"""Short answer spans of a given type found in a sentence: numbers, dates, names.

A light, rule-based tagger: no model ships offline that does this better within our limits,
and every span it returns is an exact slice of the article text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.answer.question import AnswerType

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
          "December|Jan\\.|Feb\\.|Mar\\.|Apr\\.|Jun\\.|Jul\\.|Aug\\.|Sept?\\.|Oct\\.|Nov\\.|Dec\\.")
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                "fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
                "sixty|seventy|eighty|ninety|hundred|thousand|dozens|hundreds|thousands|"
                "millions|billions|dozen|half|first|second|third|fourth|fifth|tenth")

_DATE = re.compile(
    rf"\b(?:(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}\s+(?:{MONTHS})(?:\s+\d{{4}})?"
    rf"|(?:{MONTHS})\s+\d{{4}}"
    rf"|(?:early|mid|late)[- ](?:{MONTHS})"
    rf"|(?:{MONTHS})"
    rf"|(?:{WEEKDAYS})"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|(?:19|20)\d{{2}}"
    r"|(?:midnight|noon)(?:\s+\w+\s+time)?)(?![\w-])"
)
# A span of time: "between January and March", "from May 8 to May 11".
_DATE_RANGE = re.compile(
    rf"\b(?:between|from)\s+(?:{_DATE.pattern})\s+(?:and|to|until|through)\s+"
    rf"(?:midnight\s+on\s+)?(?:{_DATE.pattern})"
)
_NUMBER = re.compile(
    rf"(?<![\w.,])(?:\$|€|£)?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?:-\w+)?"
    rf"(?:\s*(?:%|percent|per cent|million|billion|thousand|trillion))?(?![\w,])"
    rf"|\b(?:{NUMBER_WORDS})(?:-\w+)?\b",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"(?<![\w\-’'])(?:[A-Z][\w’'\-]*\.?|[A-Z]{2,})(?:\s+(?:of\s+the\s+|of\s+|de\s+|al\s+)?(?:[A-Z][\w’'\-]*|[A-Z]{2,}))*"
)
_ORG_WORDS = {
    "party", "service", "agency", "ministry", "council", "forces", "corps", "army", "navy",
    "pentagon", "kremlin", "committee", "department", "reuters", "press", "news", "association",
    "union", "organization", "organisation", "bank", "company", "inc", "group", "assembly",
    "parliament", "congress", "court", "office", "command", "institute", "university", "channel",
    "times", "post", "nations", "nato", "commission", "government", "regime", "staff",
    "federation", "club", "team", "fund", "board", "police", "unit",
}
_PLACE_WORDS = {"region", "oblast", "city", "province", "state", "county", "island", "river",
                "sea", "ocean", "mountains", "valley", "district", "republic", "kingdom"}
_PLACES = set(
    """afghanistan albania algeria america argentina armenia australia austria azerbaijan
    belarus belgium brazil britain bulgaria cambodia canada chile china colombia croatia cuba
    czechia denmark egypt england estonia ethiopia europe finland france georgia germany greece
    hungary india indonesia iran iraq ireland israel italy japan jordan kazakhstan kenya korea
    kosovo kuwait latvia lebanon libya lithuania malaysia mexico moldova mongolia morocco
    netherlands nigeria norway pakistan palestine peru philippines poland portugal qatar romania
    russia scotland serbia singapore slovakia somalia spain sudan sweden switzerland syria taiwan
    thailand turkey ukraine venezuela vietnam wales yemen africa asia london paris moscow kyiv
    kiev beijing washington seoul pyongyang tokyo berlin kursk donbas crimea gaza""".split()
)
_TITLES = {
    "president", "minister", "prime", "defense", "defence", "foreign", "leader", "chief",
    "general", "gen", "gen.", "lt", "col", "sen", "sen.", "rep", "rep.", "dr", "dr.", "mr", "mr.",
    "mrs", "mrs.", "ms", "ms.", "secretary", "spokesman", "spokeswoman", "director", "chairman",
    "governor", "king", "queen", "pope", "judge", "lawmaker", "commander", "ambassador",
    "ukrainian", "russian", "american", "british", "chinese", "north", "south", "korean",
    "french", "german", "israeli", "iranian", "former", "deputy", "vice", "state", "supreme",
}
_NOT_NAMES = {"the", "a", "an", "in", "on", "at", "he", "she", "it", "they", "we", "i", "but",
              "and", "or", "after", "before", "according", "this", "that", "these", "those", "his",
              "her", "its", "their", "there", "when", "while", "as", "if", "so", "by", "for",
              "with", "from", "to", "of", "no", "not", "yes", "also", "however", "meanwhile",
              "updated", "author", "said", "says"}
_PREPOSITIONS_OF_PLACE = re.compile(r"\b(?:in|to|from|near|into|across|toward|towards|at|of)\s+(?:the\s+)?$")


_ORDINAL = re.compile(r"first|second|third|fourth|fifth|tenth", re.IGNORECASE)
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ians?|icans?|ans|ese|ish)$")
_POSSESSIVE_END = re.compile(r"[’']s$")


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: AnswerType


def find_candidates(text: str, start: int, end: int, wanted: AnswerType) -> list[Candidate]:
    """Spans of ``text[start:end]`` that could answer a question of type ``wanted``."""
    sentence = text[start:end]
    if wanted is AnswerType.NUMBER:
        return _numbers(text, start, sentence)
    if wanted is AnswerType.DATE:
        return (_matches(_DATE, text, start, sentence, AnswerType.DATE)
                + _matches(_DATE_RANGE, text, start, sentence, AnswerType.DATE))
    if wanted in (AnswerType.PERSON, AnswerType.ORGANISATION, AnswerType.PLACE, AnswerType.AGENT):
        names = _names(text, start, sentence)
        if wanted is AnswerType.AGENT:
            return [c for c in names if c.kind in (AnswerType.PERSON, AnswerType.ORGANISATION)]
        return [c for c in names if c.kind is wanted]
    return []


def _matches(pattern: re.Pattern[str], text: str, offset: int, sentence: str,
             kind: AnswerType) -> list[Candidate]:
    found = []
    for match in pattern.finditer(sentence):
        s, e = offset + match.start(), offset + match.end()
        found.append(Candidate(s, e, text[s:e], kind))
    return found


def _numbers(text: str, offset: int, sentence: str) -> list[Candidate]:
    dates = [(m.start(), m.end()) for m in _DATE.finditer(sentence)]
    found = []
    for match in _NUMBER.finditer(sentence):
        if any(ds <= match.start() < de for ds, de in dates):
            continue  # a day of the month or a year, not a count
        if _ORDINAL.fullmatch(match.group(0)):
            continue  # "the first time" ranks, it does not count
        s, e = offset + match.start(), offset + match.end()
        found.append(Candidate(s, e, text[s:e], AnswerType.NUMBER))
    return found


def _names(text: str, offset: int, sentence: str) -> list[Candidate]:
    months_or_days = re.compile(rf"^(?:{MONTHS}|{WEEKDAYS})$")
    found = []
    for match in _NAME.finditer(sentence):
        words = match.group(0).split()
        lead = match.start()
        # Drop leading words that are not part of a name: sentence-initial function words,
        # titles and nationalities ("Ukrainian President Volodymyr Zelenskyy").
        while words and (
            words[0].lower() in _NOT_NAMES or months_or_days.match(words[0].rstrip("."))
        ):
            lead += len(words[0]) + 1
            words = words[1:]
            lead = _skip_space(sentence, lead)
        if not words or (len(words) == 1 and _DEMONYM.match(words[0])):
            continue
        kind = _classify(words, sentence[: lead])
        if kind is AnswerType.PERSON:
            while len(words) > 1 and words[0].lower().rstrip(".") in _TITLES:
                lead = _skip_space(sentence, lead + len(words[0]))
                words = words[1:]
            if words[0].lower() in _TITLES:
                continue
        s = offset + lead
        e = s + len(" ".join(words))
        if text[s:e] != " ".join(words):  # names split over odd spacing: keep the raw slice
            e = offset + match.end()
        found.append(Candidate(s, e, _POSSESSIVE_END.sub("", text[s:e]).rstrip(".’'"), kind))
    return [Candidate(c.start, c.start + len(c.text), c.text, c.kind) for c in found if c.text]


def _skip_space(sentence: str, index: int) -> int:
    while index < len(sentence) and sentence[index].isspace():
        index += 1
    return index


def _classify(words: list[str], before: str) -> AnswerType:
    lowered = [_POSSESSIVE_END.sub("", w.lower()).strip("’'.") for w in words]
    if any(w in _ORG_WORDS for w in lowered) or (len(words) == 1 and words[0].isupper()):
        return AnswerType.ORGANISATION
    if any(w in _PLACE_WORDS for w in lowered) or lowered[-1] in _PLACES:
        return AnswerType.PLACE
    if _PREPOSITIONS_OF_PLACE.search(before) and len(words) <= 3:
        return AnswerType.PLACE
    return AnswerType.PERSON
