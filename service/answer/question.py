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


_RULES: list[tuple[re.Pattern[str], AnswerType]] = [
    (re.compile(r"\bhow (many|much)\b|\bwhat (number|percentage|share|amount)\b|\bhow (long|old|far)\b"), AnswerType.NUMBER),
    (re.compile(r"\bwhen\b|\bwhat (date|day|time|year|month)\b|\bwhich (date|day|year|month)\b|\bon what date\b|\bin what (year|month)\b|\bsince when\b"), AnswerType.DATE),
    (re.compile(r"\bwhere\b|\b(which|what) (city|country|region|province|oblast|town|place|area|territory|location|capital|settlement)\b|\bin what (city|country|region)\b"), AnswerType.PLACE),
    (re.compile(r"\b(which|what) (party|agency|organi[sz]ation|group|unit|company|institution|ministry|department|body|news agency|channel|service|outlet|newspaper)\b|\baccording to (what|which)\b"), AnswerType.ORGANISATION),
    (re.compile(r"\b(which|what) (lawmaker|official|president|minister|leader|politician|person|journalist|chief|general|spokes\w+|man|woman)\b"), AnswerType.PERSON),
    (re.compile(r"\bwho(m|se)?\b|\baccording to whom\b"), AnswerType.AGENT),
]

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
    mentions_time: bool = False


def analyse_question(text: str) -> Question:
    lowered = text.lower()
    answer_type = AnswerType.OTHER
    for pattern, kind in _RULES:
        if pattern.search(lowered):
            answer_type = kind
            break
    key_terms: list[str] = []
    for match in _CAPITALISED.finditer(text):
        words = [w for w in match.group(0).split() if w not in _QUESTION_WORDS]
        key_terms.extend(lexical_terms(" ".join(words)))
    head_match = _HEAD.search(lowered)
    head_terms = lexical_terms(head_match.group(1)) if head_match else []
    return Question(
        head=head_terms[0] if head_terms else None,
        mentions_time=bool(_TIME_WORDS.search(text)),
        text=text,
        answer_type=answer_type,
        terms=tuple(dict.fromkeys(lexical_terms(text))),
        key_terms=tuple(dict.fromkeys(key_terms)),
    )
