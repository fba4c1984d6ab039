"""What a question asks for: the expected answer type and the words that must be matched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from service.retrieve.lexical import lexical_terms


class AnswerType(str, Enum):
    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    AGENT = "agent"  # who: a person or an organisation
    OTHER = "other"


_NUMBER = re.compile(
    r"\bhow (many|much)\b|\bwhat (\w+ )?(number|percentage|share|amount|sum|figure)\b"
    r"|\bhow (long|old|far|large|big)\b"
)
_DATE = re.compile(
    r"\bwhen\b|\b(what|which) (\w+ )?(date|day|time|year|month|period)\b|\bon what date\b"
    r"|\bin what (year|month)\b|\bsince when\b"
)
_HEAD_NOUNS: dict[AnswerType, frozenset[str]] = {
    AnswerType.PLACE: frozenset(
        "city country region province oblast town village place area territory location "
        "capital settlement state county district border front frontline".split()
    ),
    AnswerType.ORGANISATION: frozenset(
        "party agency organization organisation group unit company companies institution "
        "ministry department body channel service outlet newspaper committee force forces "
        "army regime government alliance bank firm corps".split()
    ),
    AnswerType.PERSON: frozenset(
        "lawmaker lawmakers official officials president minister leader politician person "
        "journalist chief general commander director spokesman spokeswoman man woman author "
        "reporter head officer secretary ambassador envoy".split()
    ),
}
# "which elite unit", "what is the name of the director", "which of the two lawmakers"
_HEADED = re.compile(
    r"\b(?:which|what)(?:\s+(?:is|was|are|were)\s+the(?:\s+\w+)?\s+names?\s+of)?(?:\s+of)?"
    r"(?:\s+(?:the|a|an|two|three|its|his|her|their))?((?:\s+[\w-]+){1,4})"
)
_WHERE = re.compile(r"\bwhere\b")
_WHO = re.compile(r"\bwho(m|se)?\b|\baccording to whom\b")


def _singular(word: str) -> str:
    return word[:-3] + "y" if word.endswith("ies") else word


def _answer_type(lowered: str) -> tuple[AnswerType, str | None]:
    """The type asked for, and the role noun that says so ("which lawmaker" -> lawmaker)."""
    if _NUMBER.search(lowered):
        return AnswerType.NUMBER, None
    if _DATE.search(lowered):
        return AnswerType.DATE, None
    headed = _HEADED.search(lowered)
    if headed:
        for word in headed.group(1).split():
            for kind, nouns in _HEAD_NOUNS.items():
                if word in nouns or word.removesuffix("s") in nouns or _singular(word) in nouns:
                    return kind, word
    if _WHERE.search(lowered):
        return AnswerType.PLACE, None
    if _WHO.search(lowered):
        return AnswerType.AGENT, None
    return AnswerType.OTHER, None


_CAPITALISED = re.compile(r"\b([A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)*|\d[\d,.]*)")
_QUESTION_WORDS = {"Who", "What", "When", "Where", "Which", "How", "Why", "Whom", "Whose", "Did",
                   "Does", "Do", "Is", "Are", "Was", "Were", "In", "On", "According", "The", "A", "An"}


_AUX = r"(?!(?:is|are|was|were|did|does|do|has|had|have|can|could|would|will)\b)"
_HEAD = re.compile(rf"\b(?:which|what)\s+{_AUX}(?:\w+\s+{_AUX})?(\w+)")
_TIME_WORDS = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|\d{4}|initially|first|originally|earlier|previous|before|in \w+ estimate)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    text: str
    answer_type: AnswerType
    terms: tuple[str, ...]  # stemmed content words
    key_terms: tuple[str, ...]  # stemmed names and numbers: the most specific words
    head: str | None = None  # the noun in "which party", "what platform", stemmed
    role: str | None = None  # a head noun that names the type: "which lawmaker", stemmed
    mentions_time: bool = False


def analyse_question(text: str) -> Question:
    lowered = text.lower()
    answer_type, role = _answer_type(lowered)
    key_terms: list[str] = []
    for match in _CAPITALISED.finditer(text):
        words = [w for w in match.group(0).split() if w not in _QUESTION_WORDS]
        key_terms.extend(lexical_terms(" ".join(words)))
    head_match = _HEAD.search(lowered)
    head_terms = lexical_terms(head_match.group(1)) if head_match else []
    return Question(
        head=head_terms[0] if head_terms else None,
        role=(lexical_terms(role) or [None])[0] if role else None,
        mentions_time=bool(_TIME_WORDS.search(text)),
        text=text,
        answer_type=answer_type,
        terms=tuple(dict.fromkeys(lexical_terms(text))),
        key_terms=tuple(dict.fromkeys(key_terms)),
    )
