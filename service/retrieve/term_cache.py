"""The lexical index kept on disk, so a restart neither re-reads every chunk nor re-stems it.

Rebuilding the lexical index from Chroma is most of what opening a large store costs: at 100k
chunks, reading the chunks and cutting them into stemmed terms took 15 s. The cache holds the
index's snapshot (``LexicalSnapshot``): each chunk's term ids and counts in flat arrays, and
the vocabulary, in one ``.npz`` file (no pickle: reading it runs no code).

A chunk id names its document and version (``doc:version:index``), so a cached entry is never
stale. A restart compares the cached ids with the store's current chunks: the same set restores
the index from the arrays as they are; otherwise the cached terms of every current chunk are
kept and only the others are read from Chroma. The file is written under a new name and then
swapped in, and an unreadable or inconsistent cache, or one of an older format, counts as
empty: a crash costs a slower start, never a wrong index.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from service.retrieve.lexical import LexicalSnapshot

log = logging.getLogger("factdesk")

FOLDER = "lexical-cache"
INDEX_FILE = "index.npz"
FORMAT = 3  # 2 was a pickle of term lists beside a bm25s model (index.pickle, bm25-*/)
_SEPARATOR = "\n"  # between chunk ids, and between terms: neither holds a line break


class TermCache:
    """``<data dir>/lexical-cache/index.npz``: the format, the chunk ids and the vocabulary
    (UTF-8, one per line), and the snapshot's ``starts``, ``term_ids`` and ``counts``."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / FOLDER
        self.path = self.folder / INDEX_FILE

    def load(self) -> LexicalSnapshot:
        """What was saved; an empty snapshot when nothing usable was."""
        empty = LexicalSnapshot([], [])
        try:
            with np.load(self.path, allow_pickle=False) as found:
                if int(found["format"]) != FORMAT:
                    return empty
                snapshot = LexicalSnapshot(
                    _lines(found["ids"]), _lines(found["vocabulary"]),
                    found["starts"], found["term_ids"], found["counts"])
        except FileNotFoundError:
            return empty
        except Exception as error:  # noqa: BLE001 - a damaged cache is only a slower start
            log.warning("lexical cache %s unreadable (%s); rebuilding it", self.path, error)
            return empty
        if not snapshot.is_consistent():
            log.warning("lexical cache %s inconsistent; rebuilding it", self.path)
            return empty
        return snapshot

    def save(self, snapshot: LexicalSnapshot) -> None:
        ids, vocabulary = _SEPARATOR.join(snapshot.ids), _SEPARATOR.join(snapshot.vocabulary)
        if (ids.count(_SEPARATOR) != max(len(snapshot.ids) - 1, 0)
                or vocabulary.count(_SEPARATOR) != max(len(snapshot.vocabulary) - 1, 0)):
            log.warning("lexical cache not written: a chunk id or term holds a line break")
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".npz", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    np.savez(f, format=np.int64(FORMAT), ids=_utf8(ids),
                             vocabulary=_utf8(vocabulary), starts=snapshot.starts,
                             term_ids=snapshot.term_ids, counts=snapshot.counts)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._remove_older_formats()
        except OSError as error:
            log.warning("could not write the lexical cache %s: %s", self.folder, error)

    def _remove_older_formats(self) -> None:
        (self.folder / "index.pickle").unlink(missing_ok=True)
        for old in self.folder.glob("bm25-*"):
            shutil.rmtree(old, ignore_errors=True)


def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), np.uint8)


def _lines(stored: np.ndarray) -> list[str]:
    text = stored.tobytes().decode()
    return text.split(_SEPARATOR) if text else []
