"""The lexical index kept on disk, so a restart neither re-reads every chunk nor re-indexes.

Rebuilding the BM25 index from Chroma is most of what opening a large store costs: at 100k
chunks, reading the chunks and cutting them into stemmed terms took 15 s, and indexing them
another 6.6 s (5.5 s bm25s, 1.1 s idf). The cache holds each chunk's terms and, beside them,
the built model (bm25s's own files, its documents' order and the idf).

A chunk id names its document and version (``doc:version:index``), so a cached entry is never
stale. A restart compares the cached ids with the store's current chunks: the same set takes
the built model as it is (no indexing at all); otherwise the cached terms of every current
chunk are kept, only the others are read from Chroma, and the model is rebuilt. The files are
written under new names and then swapped in, and an unreadable or inconsistent cache counts as
empty: a crash costs a slower start, never a wrong index.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import uuid
from pathlib import Path

import bm25s

from service.retrieve.lexical import LexicalSnapshot

log = logging.getLogger("factdesk")

FOLDER = "lexical-cache"
INDEX_FILE = "index.pickle"
FORMAT = 2


class TermCache:
    """``<data dir>/lexical-cache/``: ``index.pickle`` (terms, ids, idf, the model's folder
    name) and ``bm25-<token>/`` (the model)."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / FOLDER
        self.path = self.folder / INDEX_FILE

    def load(self) -> LexicalSnapshot:
        """What was saved; the model is ``None`` when it is missing or unreadable."""
        empty = LexicalSnapshot({}, [], {}, None)
        # The file lives in the data directory beside Chroma's own files and is written only
        # by factdesk: it is as trusted as the store itself.
        try:
            with self.path.open("rb") as f:
                found = pickle.load(f)
        except FileNotFoundError:
            return empty
        except Exception as error:  # noqa: BLE001 - a damaged cache is only a slower start
            log.warning("lexical cache %s unreadable (%s); rebuilding it", self.path, error)
            return empty
        if not isinstance(found, dict) or found.get("format") != FORMAT:
            return empty
        snapshot = LexicalSnapshot(found["terms"], found["ids"], found["idf"], None)
        if found.get("model") and len(snapshot.ids) == len(snapshot.terms):
            try:
                snapshot.retriever = bm25s.BM25.load(str(self.folder / found["model"]))
            except Exception as error:  # noqa: BLE001
                log.warning("lexical cache model unreadable (%s); rebuilding it", error)
        return snapshot

    def save(self, snapshot: LexicalSnapshot) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            model = None
            if snapshot.retriever is not None:
                model = f"bm25-{uuid.uuid4().hex[:12]}"
                snapshot.retriever.save(str(self.folder / model))
            fd, tmp = tempfile.mkstemp(prefix=".index-", dir=self.folder)
            with os.fdopen(fd, "wb") as f:
                pickle.dump({"format": FORMAT, "terms": snapshot.terms, "ids": snapshot.ids,
                             "idf": snapshot.idf, "model": model}, f,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
            for old in self.folder.glob("bm25-*"):  # models no index names any more
                if old.name != model:
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as error:
            log.warning("could not write the lexical cache %s: %s", self.folder, error)
