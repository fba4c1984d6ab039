"""BM25 ranking over the chunks held in Chroma (local Chroma has no ranked lexical search), and
how much of a query each chunk holds (``coverage``), which the hybrid fusion weighs.

The index is derived: it is built from what the store holds and updated on every write made
through this process. BM25 is scored when a question is asked, from each chunk's term counts
and the current document frequencies and average length, so a write changes only the counts
of the chunks it adds or removes; the scores are those of a bm25s 'lucene' index built from
scratch on the current chunks, to the last float32 bit.

Layout. Each chunk is a *row*: its term ids and their counts, appended to flat arrays (the
truth, kept for coverage and snapshots). Searches read a term-major copy (``_Postings``: for
each term, the rows holding it and how often) in two parts: *sealed* rows, and the *recent*
rows added since, whose postings are rebuilt at the next search after a write (cheap: they are
a small share). Removing a chunk marks its row dead; dead rows score 0. When the recent rows
or the dead ones pass a share of the whole, the next search seals: one linear pass merges the
recent postings into the sealed ones, drops dead rows and unused terms.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from service.retrieve.terms import lexical_terms

K1 = 1.5
B = 0.75
RECENT_SHARE = 0.02  # seal when the recent rows hold more than this share of the entries
DEAD_SHARE = 0.1  # ... or when more than this share of the rows are dead
_NO_ROWS = np.zeros(0, np.int32)


def _document_of(chunk_id: str) -> str | None:
    """A chunk id names its document first (``doc:version:index``)."""
    document, colon, _ = chunk_id.partition(":")
    return document if colon else None


def _lucene_idf(df: int, documents: int) -> float:
    """``ln(1 + (N - df + 0.5) / (df + 0.5))``, as bm25s's 'lucene' method computes it."""
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


@dataclass(eq=False)
class LexicalSnapshot:
    """The index's chunks, compacted: chunk ``ids[i]`` holds the terms
    ``vocabulary[term_ids[j]]``, each ``counts[j]`` times, for ``starts[i] <= j < starts[i + 1]``
    (every term once per chunk). All the index is rebuilt from; kept across restarts."""

    ids: list[str]
    vocabulary: list[str]
    starts: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    term_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    @classmethod
    def of_terms(cls, terms: Mapping[str, Sequence[str]]) -> LexicalSnapshot:
        """The snapshot of chunks already cut into terms (``lexical_terms``)."""
        vocabulary: dict[str, int] = {}
        term_ids, counts, starts = array("i"), array("i"), array("q", [0])
        for held in terms.values():
            counted = Counter(held)
            term_ids.extend(vocabulary.setdefault(term, len(vocabulary)) for term in counted)
            counts.extend(counted.values())
            starts.append(len(term_ids))
        return cls(list(terms), list(vocabulary), np.array(starts, np.int64),
                   np.array(term_ids, np.int32), np.array(counts, np.int32))

    @cached_property
    def terms(self) -> dict[str, list[str]]:
        """Each chunk's terms, each repeated as often as the chunk holds it (grouped, not in
        the text's order: BM25 and coverage do not look at the order)."""
        words = np.array(self.vocabulary, dtype=object)
        flat = np.repeat(words[self.term_ids], self.counts).tolist()
        ends = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])[self.starts].tolist()
        return {chunk_id: flat[a:b] for chunk_id, a, b in zip(self.ids, ends, ends[1:])}

    def is_consistent(self) -> bool:
        """Whether the arrays describe an index (checked on what is read from disk)."""
        starts, term_ids, counts = self.starts, self.term_ids, self.counts
        return bool(
            all(np.issubdtype(a.dtype, np.integer) for a in (starts, term_ids, counts))
            and starts.ndim == term_ids.ndim == counts.ndim == 1
            and len(starts) == len(self.ids) + 1 and starts[0] == 0
            and starts[-1] == len(term_ids) == len(counts)
            and np.all(np.diff(starts) >= 0)
            and (len(term_ids) == 0 or (term_ids.min() >= 0
                                         and term_ids.max() < len(self.vocabulary)
                                         and counts.min() > 0))
            and len(set(self.ids)) == len(self.ids)
            and len(set(self.vocabulary)) == len(self.vocabulary)
        )


@dataclass(frozen=True)
class _Postings:
    """Term-major entries: the rows holding term ``t`` are ``rows[indptr[t]:indptr[t + 1]]``,
    each holding it ``counts[...]`` times. Never changed once built: searches read it unlocked."""

    indptr: np.ndarray
    rows: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, term_ids: np.ndarray, rows: np.ndarray, counts: np.ndarray,
           vocabulary_size: int, sort: Literal["stable", "quicksort"] = "stable") -> _Postings:
        # "stable" merges already sorted runs in linear time (timsort); "quicksort" is faster on
        # unsorted ids. The order of rows within a term does not change any score.
        order = np.argsort(term_ids, kind=sort)
        indptr = np.zeros(vocabulary_size + 1, np.int64)
        np.cumsum(np.bincount(term_ids, minlength=vocabulary_size), out=indptr[1:])
        return cls(indptr, rows[order], counts[order])

    @property
    def term_ids(self) -> np.ndarray:
        """Each entry's term, in entry order (sorted)."""
        return np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int32), np.diff(self.indptr))

    def holding(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        if term_id + 1 >= len(self.indptr):
            return _NO_ROWS, _NO_ROWS
        first, end = self.indptr[term_id], self.indptr[term_id + 1]
        return self.rows[first:end], self.counts[first:end]


_NO_POSTINGS = _Postings(np.zeros(1, np.int64), _NO_ROWS, _NO_ROWS)


@dataclass(frozen=True)
class _View:
    """What a search reads, taken under the lock and read without it: nothing in it changes."""

    sealed: _Postings
    recent: _Postings
    ids: list[str]  # row -> chunk id (a list that is only appended to, or replaced)
    lengths: np.ndarray  # row -> BM25 length (float64)
    dead: np.ndarray  # rows removed since the last seal
    average_length: float

    def scores(self, weights: Sequence[tuple[int, np.float32]]) -> np.ndarray:
        """BM25 per row for query terms given as (term id, float32 idf), repeats included.

        The arithmetic is bm25s's: float64 per entry, rounded to float32, summed in float32 in
        the query's order; so the scores are bit for bit those of a fresh bm25s index."""
        scores = np.zeros(len(self.lengths), np.float32)
        for term_id, idf in weights:
            for postings in (self.sealed, self.recent):  # a row is in one of them
                rows, counts = postings.holding(term_id)
                if len(rows):
                    tf = counts.astype(np.float64)
                    norm = K1 * ((1 - B) + B * self.lengths[rows] / self.average_length)
                    scores[rows] += (idf * (tf / (norm + tf))).astype(np.float32)
        scores[self.dead] = 0
        return scores


class LexicalIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._restore(LexicalSnapshot([], []), _NO_POSTINGS)

    def _restore(self, snapshot: LexicalSnapshot, sealed: _Postings) -> None:
        """Take the snapshot's rows as the index, ``sealed`` their postings (under the lock)."""
        self._words = list(snapshot.vocabulary)
        self._term_id = {word: i for i, word in enumerate(self._words)}
        self._ids = list(snapshot.ids)  # row -> chunk id
        self._row_of = {chunk_id: row for row, chunk_id in enumerate(self._ids)}  # live rows
        self._chunks_of: dict[str, set[str]] = {}  # document id -> its chunk ids
        for chunk_id in self._ids:
            if (document := _document_of(chunk_id)) is not None:
                self._chunks_of.setdefault(document, set()).add(chunk_id)
        # Row r holds _row_terms[_starts[r]:_starts[r + 1]], each _row_counts[...] times.
        self._starts = _growable("q", snapshot.starts)
        self._row_terms = _growable("i", snapshot.term_ids)
        self._row_counts = _growable("i", snapshot.counts)
        lengths = _row_lengths(snapshot.starts, snapshot.counts)
        self._lengths = _growable("i", lengths)
        self._alive = bytearray(b"\x01") * len(self._ids)
        # The statistics of the live rows: document frequency per term, count, total length.
        self._df = np.bincount(snapshot.term_ids, minlength=len(self._words)).astype(np.int64)
        self._live = len(self._ids)
        self._total_length = int(lengths.sum())
        self._sealed = sealed  # the postings of rows below _sealed_rows
        self._sealed_rows = len(self._ids)
        self._recent: _Postings | None = _NO_POSTINGS  # None: rebuilt at the next search
        self._view: _View | None = None  # None: rebuilt at the next search

    def __len__(self) -> int:
        return len(self._row_of)

    def replace_all(self, chunks: Iterable[tuple[str, str]]) -> None:
        self.replace_terms({chunk_id: lexical_terms(text) for chunk_id, text in chunks})

    def replace_terms(self, terms: Mapping[str, Sequence[str]]) -> None:
        """Replace the index with chunks already cut into terms (see ``terms``)."""
        self.restore(LexicalSnapshot.of_terms(terms))

    def terms(self) -> dict[str, list[str]]:
        """Each chunk's terms (see ``LexicalSnapshot.terms``)."""
        return self.snapshot().terms

    def snapshot(self) -> LexicalSnapshot:
        """Everything the index holds, compacted, to be kept across restarts."""
        with self._lock:
            return self._compacted(self._alive_rows(), self._used_terms())

    def restore(self, snapshot: LexicalSnapshot) -> None:
        """Take an index back from its snapshot."""
        count = len(snapshot.ids)
        rows = np.repeat(np.arange(count, dtype=np.int32), np.diff(snapshot.starts))
        sealed = _Postings.of(snapshot.term_ids.astype(np.int32), rows,
                              snapshot.counts.astype(np.int32), len(snapshot.vocabulary),
                              sort="quicksort")
        with self._lock:
            self._restore(snapshot, sealed)

    def add(self, chunks: Iterable[tuple[str, str]]) -> None:
        """Add chunks; a chunk id the index holds is replaced."""
        new = [(chunk_id, Counter(lexical_terms(text))) for chunk_id, text in chunks]
        with self._lock:
            first = len(self._row_terms)
            for chunk_id, counted in new:
                self._drop(chunk_id)
                self._row_of[chunk_id] = len(self._ids)
                self._ids.append(chunk_id)
                if (document := _document_of(chunk_id)) is not None:
                    self._chunks_of.setdefault(document, set()).add(chunk_id)
                self._row_terms.extend(self._term_id_of(term) for term in counted)
                self._row_counts.extend(counted.values())
                self._starts.append(len(self._row_terms))
                # An empty chunk is one term long: bm25s indexed it as "\u2205".
                length = max(sum(counted.values()), 1)
                self._lengths.append(length)
                self._alive.append(1)
                self._live += 1
                self._total_length += length
            self._grow_df()
            added = np.frombuffer(self._row_terms[first:], np.int32)
            self._df[: len(self._words)] += np.bincount(added, minlength=len(self._words))
            self._recent = self._view = None

    def remove(self, chunk_ids: Iterable[str]) -> None:
        with self._lock:
            for chunk_id in chunk_ids:
                self._drop(chunk_id)

    def remove_document(self, document_id: str) -> None:
        with self._lock:
            for chunk_id in list(self._chunks_of.get(document_id, ())):
                self._drop(chunk_id)

    def chunk_ids(self) -> set[str]:
        with self._lock:
            return set(self._row_of)

    def search(
        self, query: str, k: int, allowed: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best chunks with a positive BM25 score, best first (ties in the order the
        chunks were added); with ``allowed``, only chunks of those documents."""
        query_terms = lexical_terms(query)
        if not query_terms or k <= 0:
            return []
        with self._lock:
            view = self._current()
            idf = {term: np.float32(_lucene_idf(int(self._df[term_id]), self._live))
                   for term in set(query_terms)
                   if (term_id := self._term_id.get(term)) is not None and self._df[term_id] > 0}
            # Every occurrence counts, as in bm25s: "korea korea" weighs "kor" twice.
            weights = [(self._term_id[term], idf[term]) for term in query_terms if term in idf]
            rows = None if allowed is None else np.array(
                [self._row_of[chunk_id] for document in dict.fromkeys(allowed)
                 for chunk_id in self._chunks_of.get(document, ())], np.int64)
        if not weights:
            return []
        scores = view.scores(weights)
        if rows is not None:
            scores = _only(scores, rows)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        best = hits[np.lexsort((hits, -scores[hits]))]
        return [(view.ids[row], float(scores[row])) for row in best]

    def coverage(self, query: str, chunk_ids: Iterable[str]) -> dict[str, float]:
        """Share of the query's idf mass that each chunk holds, in ``[0, 1]``.

        Which of the query's words a chunk contains, each weighted by its rarity in the index
        (the idf BM25 uses), whatever their counts or the chunk's length. A query word the index
        does not hold counts for no chunk, so it is left out of the mass. Unknown chunks hold 0.
        """
        query_terms = sorted(set(lexical_terms(query)))  # a fixed order: sums that tie stay tied
        with self._lock:
            weights = [(term_id, _lucene_idf(int(self._df[term_id]), self._live))
                       for term in query_terms
                       if (term_id := self._term_id.get(term)) is not None
                       and self._df[term_id] > 0]
            held = {chunk_id: self._held(chunk_id) for chunk_id in chunk_ids}
        mass = sum(weight for _, weight in weights)
        if mass <= 0:
            return dict.fromkeys(held, 0.0)
        return {
            chunk_id: sum(weight for term_id, weight in weights if term_id in terms) / mass
            for chunk_id, terms in held.items()
        }

    # ---- under the lock ----------------------------------------------------------------

    def _term_id_of(self, term: str) -> int:
        found = self._term_id.get(term)
        if found is None:
            found = self._term_id[term] = len(self._words)
            self._words.append(term)
        return found

    def _grow_df(self) -> None:
        if len(self._df) < len(self._words):
            grown = np.zeros(max(len(self._words), 2 * len(self._df)), np.int64)
            grown[: len(self._df)] = self._df
            self._df = grown

    def _held(self, chunk_id: str) -> set[int]:
        row = self._row_of.get(chunk_id)
        if row is None:
            return set()
        return set(self._row_terms[self._starts[row]:self._starts[row + 1]])

    def _drop(self, chunk_id: str) -> None:
        row = self._row_of.pop(chunk_id, None)
        if row is None:
            return
        if (document := _document_of(chunk_id)) is not None:
            siblings = self._chunks_of[document]
            siblings.discard(chunk_id)
            if not siblings:
                del self._chunks_of[document]
        self._alive[row] = 0
        self._grow_df()
        held = np.frombuffer(self._row_terms[self._starts[row]:self._starts[row + 1]], np.int32)
        self._df[held] -= 1
        self._live -= 1
        self._total_length -= self._lengths[row]
        self._view = None

    @property
    def _dirty(self) -> bool:
        """Whether the next search rebuilds what it reads (eval/benchmarks/scale.py times it)."""
        return self._view is None

    def _current(self) -> _View:
        """What searches read, brought up to date after writes."""
        if self._view is None:
            dead = len(self._ids) - self._live
            recent = len(self._row_terms) - self._starts[self._sealed_rows]
            if dead > DEAD_SHARE * len(self._ids) or recent > RECENT_SHARE * len(self._row_terms):
                self._seal()
            if self._recent is None:
                terms, rows, counts = self._entries(self._sealed_rows)
                self._recent = _Postings.of(terms, rows, counts, len(self._words))
            self._view = _View(
                self._sealed, self._recent, self._ids,
                np.array(self._lengths, np.float64), np.flatnonzero(~self._alive_rows()),
                self._total_length / self._live if self._live else 1.0)
        return self._view

    def _entries(self, first_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term id, row, count) of every entry of the rows from ``first_row`` on, in row
        order."""
        first = self._starts[first_row]
        starts = np.array(self._starts[first_row:], np.int64)
        rows = np.repeat(np.arange(first_row, len(self._ids), dtype=np.int32), np.diff(starts))
        return (np.array(self._row_terms[first:], np.int32), rows,
                np.array(self._row_counts[first:], np.int32))

    def _seal(self) -> None:
        """Merge the recent rows into the sealed postings, dropping dead rows and unused
        terms: a linear pass over every entry (the sealed ones are already sorted by term)."""
        alive, used = self._alive_rows(), self._used_terms()
        recent_terms, recent_rows, recent_counts = self._entries(self._sealed_rows)
        terms = np.concatenate([self._sealed.term_ids, recent_terms])
        rows = np.concatenate([self._sealed.rows, recent_rows])
        counts = np.concatenate([self._sealed.counts, recent_counts])
        keep = alive[rows]
        new_row = np.cumsum(alive, dtype=np.int32) - 1
        new_term = np.cumsum(used, dtype=np.int32) - 1
        sealed = _Postings.of(new_term[terms[keep]], new_row[rows[keep]], counts[keep],
                              int(used.sum()))
        self._restore(self._compacted(alive, used), sealed)

    def _alive_rows(self) -> np.ndarray:
        return np.frombuffer(self._alive, np.uint8).astype(bool)

    def _used_terms(self) -> np.ndarray:
        """The terms some live row holds."""
        return self._df[: len(self._words)] > 0

    def _compacted(self, alive: np.ndarray, used: np.ndarray) -> LexicalSnapshot:
        """The live rows, their terms renumbered to the used ones (in the same order)."""
        new_term = np.cumsum(used, dtype=np.int32) - 1
        starts = np.array(self._starts, np.int64)
        keep = np.repeat(alive, np.diff(starts))
        return LexicalSnapshot(
            [chunk_id for chunk_id, live in zip(self._ids, alive.tolist()) if live],
            [word for word, kept in zip(self._words, used.tolist()) if kept],
            np.concatenate([[0], np.cumsum(np.diff(starts)[alive], dtype=np.int64)]),
            new_term[np.array(self._row_terms, np.int32)[keep]],
            np.array(self._row_counts, np.int32)[keep])


def _growable(typecode: str, values: np.ndarray) -> array[int]:
    """An array that can be appended to, holding a copy of ``values``."""
    grown: array[int] = array(typecode)
    grown.frombytes(np.ascontiguousarray(values, np.dtype(typecode)).data.cast("B"))
    return grown


def _row_lengths(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each row's BM25 length: its terms, repeats counted; an empty row counts one."""
    ends = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
    return np.maximum(ends[starts[1:]] - ends[starts[:-1]], 1)


def _only(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    kept = np.zeros_like(scores)
    kept[rows] = scores[rows]
    return kept
