"""The terms BM25 counts: lower-cased, stop-word-free, stemmed words, with numbers and place
names made to meet their other spellings."""

from __future__ import annotations

import re

import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_POSSESSIVE = re.compile(r"'s\b")
_DEMONYM_END = re.compile(r"(?:ian|ean|an|ia|a|e)$")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_STEMMER = Stemmer.Stemmer("english")
# bm25s's English stop words (bm25s.stopwords.STOPWORDS_EN) and more.
_STOPWORD_LIST = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves s t don shall may might must also many much"""
_STOPWORDS = frozenset(_STOPWORD_LIST.split())


def lexical_terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed words; numbers keep their digits ("4,700" -> "4700");
    a capitalised place name and its demonym meet ("Korean", "Korea's" -> "kor")."""
    text = _POSSESSIVE.sub("", text.replace("’", "'"))
    words = _WORD.findall(_THOUSANDS.sub("", text))
    kept = [w for w in words if w.lower() not in _STOPWORDS]
    stems = _STEMMER.stemWords([w.lower() for w in kept])
    return [
        _place_root(stem) if word[0].isupper() and len(stem) >= 5 else stem
        for word, stem in zip(kept, stems)
    ]


def _place_root(stem: str) -> str:
    """"korea" and "korean" -> "kor"; "russia" and "russian" -> "russ"."""
    root = _DEMONYM_END.sub("", stem)
    return _DEMONYM_END.sub("", root) if root != stem else root
