"""BM25 ranking over the chunks held in Chroma (local Chroma has no ranked lexical search), and
how much of a query each chunk holds (``coverage``), which the hybrid fusion weighs.

The index is derived: it is built from what the store holds and updated on every write made
through this process, and it is rebuilt lazily (at the next search) after changes, since
bm25s indexes a whole corpus at once.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_POSSESSIVE = re.compile(r"'s\b")
_DEMONYM_END = re.compile(r"(?:ian|ean|an|ia|a|e)$")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_STEMMER = Stemmer.Stemmer("english")
_MORE_STOPWORDS = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves s t don shall may might must also many much"""
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | frozenset(_MORE_STOPWORDS.split())


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


@dataclass
class LexicalSnapshot:
    terms: dict[str, list[str]]
    ids: list[str]  # the BM25 model's documents, in its order
    idf: dict[str, float]
    retriever: bm25s.BM25 | None


class LexicalIndex:
    def __init__(self) -> None:
        self._terms: dict[str, list[str]] = {}
        self._ids: list[str] = []
        self._retriever: bm25s.BM25 | None = None
        self._idf: dict[str, float] = {}
        self._dirty = True
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._terms)

    def replace_all(self, chunks: Iterable[tuple[str, str]]) -> None:
        terms = {chunk_id: lexical_terms(text) for chunk_id, text in chunks}
        with self._lock:
            self._terms = terms
            self._dirty = True

    def replace_terms(self, terms: dict[str, list[str]]) -> None:
        """Replace the index with chunks already cut into terms (see ``terms``)."""
        with self._lock:
            self._terms = dict(terms)
            self._dirty = True

    def terms(self) -> dict[str, list[str]]:
        """Each chunk's terms, to be kept across restarts (service/retrieve/term_cache.py)."""
        with self._lock:
            return dict(self._terms)

    def snapshot(self) -> LexicalSnapshot:
        """Everything the index holds, built, to be kept across restarts."""
        with self._lock:
            retriever, ids = self._current()
            return LexicalSnapshot(dict(self._terms), list(ids), dict(self._idf), retriever)

    def restore(self, snapshot: LexicalSnapshot) -> None:
        """Take a built index back (its terms, order, idf and BM25 model belong together)."""
        with self._lock:
            self._terms = dict(snapshot.terms)
            self._ids = list(snapshot.ids)
            self._idf = dict(snapshot.idf)
            self._retriever = snapshot.retriever
            self._dirty = False

    def add(self, chunks: Iterable[tuple[str, str]]) -> None:
        new = {chunk_id: lexical_terms(text) for chunk_id, text in chunks}
        with self._lock:
            self._terms.update(new)
            self._dirty = True

    def remove(self, chunk_ids: Iterable[str]) -> None:
        with self._lock:
            for chunk_id in chunk_ids:
                self._terms.pop(chunk_id, None)
            self._dirty = True

    def remove_document(self, document_id: str) -> None:
        prefix = f"{document_id}:"
        with self._lock:
            for chunk_id in [c for c in self._terms if c.startswith(prefix)]:
                del self._terms[chunk_id]
            self._dirty = True

    def chunk_ids(self) -> set[str]:
        with self._lock:
            return set(self._terms)

    def search(
        self, query: str, k: int, allowed: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best chunks with a positive BM25 score, best first."""
        query_terms = lexical_terms(query)
        with self._lock:
            retriever, ids = self._current()
        if retriever is None or not query_terms:
            return []
        scores = retriever.get_scores(query_terms)
        if allowed is not None:
            prefixes = tuple(f"{doc_id}:" for doc_id in allowed)
            mask = np.fromiter((cid.startswith(prefixes) for cid in ids), bool, len(ids))
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def coverage(self, query: str, chunk_ids: Iterable[str]) -> dict[str, float]:
        """Share of the query's idf mass that each chunk holds, in ``[0, 1]``.

        Which of the query's words a chunk contains, each weighted by its rarity in the index
        (the idf BM25 uses), whatever their counts or the chunk's length. A query word the index
        does not hold counts for no chunk, so it is left out of the mass. Unknown chunks hold 0.
        """
        query_terms = sorted(set(lexical_terms(query)))  # a fixed order: sums that tie stay tied
        with self._lock:
            self._current()
            idf = self._idf
            held = {cid: set(self._terms.get(cid, ())) for cid in chunk_ids}
        weights = [(term, idf[term]) for term in query_terms if term in idf]
        mass = sum(weight for _, weight in weights)
        if mass <= 0:
            return dict.fromkeys(held, 0.0)
        return {
            cid: sum(weight for term, weight in weights if term in terms) / mass
            for cid, terms in held.items()
        }

    def _current(self) -> tuple[bm25s.BM25 | None, list[str]]:
        if self._dirty:
            self._ids = list(self._terms)
            corpus = [self._terms[cid] or ["\u2205"] for cid in self._ids]
            self._idf = _idf(Counter(term for cid in self._ids for term in set(self._terms[cid])),
                             len(self._ids))
            if corpus:
                retriever = bm25s.BM25()
                retriever.index(corpus, show_progress=False)
                self._retriever = retriever
            else:
                self._retriever = None
            self._dirty = False
        return self._retriever, self._ids


def _idf(document_frequency: Counter[str], documents: int) -> dict[str, float]:
    """The Lucene idf, as bm25s scores with it: ``ln(1 + (N - df + 0.5) / (df + 0.5))``."""
    return {
        term: math.log(1 + (documents - df + 0.5) / (df + 0.5))
        for term, df in document_frequency.items()
    }
