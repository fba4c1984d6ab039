"""The lexical index survives a restart, and the cache can never serve stale terms."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from service.config import Settings
from service.retrieve.lexical import LexicalIndex, LexicalSnapshot
from service.retrieve.term_cache import FORMAT, TermCache
from tests.conftest import make_settings, seeded_desk
from tests.samples import MARKDOWN_ARTICLE, SEED_ID, SEED_QUESTION, TEXT_ARTICLE


def test_a_snapshot_comes_back_as_it_was_saved(tmp_path: Path) -> None:
    index = LexicalIndex()
    index.replace_all([("a:v1:0", TEXT_ARTICLE), ("a:v1:1", ""), ("b:v1:0", MARKDOWN_ARTICLE)])
    index.remove_document("b")
    index.add([("c:v1:0", "Harbour bridge harbour")])
    cache = TermCache(tmp_path)
    cache.save(index.snapshot())
    loaded = cache.load()
    assert loaded.ids == ["a:v1:0", "a:v1:1", "c:v1:0"]
    assert loaded.terms == index.terms() and loaded.terms["a:v1:1"] == []
    assert sorted(loaded.terms["c:v1:0"]) == ["bridg", "harbour", "harbour"]
    restored = LexicalIndex()
    restored.restore(loaded)
    assert restored.search("apple harbour harvest", 3) == index.search("apple harbour harvest", 3)
    assert cache.load().is_consistent() and not list(cache.folder.glob(".index-*"))


def test_an_inconsistent_or_older_cache_counts_as_empty(tmp_path: Path) -> None:
    index = LexicalIndex()
    index.replace_all([("a:v1:0", TEXT_ARTICLE), ("b:v1:0", MARKDOWN_ARTICLE)])
    good = index.snapshot()
    cache = TermCache(tmp_path)
    broken = [
        LexicalSnapshot(good.ids, good.vocabulary[:3], good.starts, good.term_ids, good.counts),
        LexicalSnapshot(good.ids[:1], good.vocabulary, good.starts, good.term_ids, good.counts),
        LexicalSnapshot(good.ids, good.vocabulary, good.starts[::-1], good.term_ids, good.counts),
        LexicalSnapshot(good.ids, good.vocabulary, good.starts, good.term_ids, 0 * good.counts),
    ]
    for snapshot in broken:
        cache.save(snapshot)
        assert cache.path.exists() and cache.load().ids == []
    cache.save(good)
    with np.load(cache.path) as saved:
        arrays = dict(saved)
    np.savez(cache.path, **{**arrays, "format": np.int64(FORMAT - 1)})
    assert cache.load().ids == []
    cache.path.write_bytes(cache.path.read_bytes()[:-40])  # cut short
    assert cache.load().ids == []
    # The files of the older format (a pickle and a bm25s model folder) go at the next save.
    (cache.folder / "index.pickle").write_bytes(pickle.dumps({"format": 2}))
    (cache.folder / "bm25-0123456789ab").mkdir()
    cache.save(good)
    assert sorted(p.name for p in cache.folder.iterdir()) == ["index.npz"]
    assert cache.load().terms == good.terms


def test_a_restart_takes_the_index_from_the_cache(tmp_path: Path) -> None:
    from service.desk import Factdesk

    settings = make_settings(tmp_path / "data")
    desk = seeded_desk(settings)
    desk.close()
    cache = TermCache(settings.data_dir)
    saved = cache.load()
    assert saved.terms == desk.lexical.terms() and saved.terms
    assert saved.ids and sorted(saved.ids) == sorted(saved.terms)

    # The store unchanged: the saved index is restored as it is, its terms not re-read from
    # the chunks (a word the chunk's text does not hold, added to the cache, is found).
    marked = min(saved.terms)
    terms = dict(saved.terms)
    terms[marked] = [*terms[marked], "zzcachedword"]
    cache.save(LexicalSnapshot.of_terms(terms))
    reopened = Factdesk(settings)
    assert [cid for cid, _ in reopened.lexical.search("zzcachedword", 5)] == [marked]
    assert "600" in reopened.ask(SEED_QUESTION, mode="offline").answer

    # An entry of a version that is not stored: the cached terms of the current chunks are
    # kept, the stale entry is left out.
    terms[f"{SEED_ID}:0000000000000000:0"] = ["zzstaleword"]
    cache.save(LexicalSnapshot.of_terms(terms))
    rebuilt = Factdesk(settings)
    assert [cid for cid, _ in rebuilt.lexical.search("zzcachedword", 5)] == [marked]
    assert rebuilt.lexical.search("zzstaleword", 5) == []
    assert len(rebuilt.lexical) == len(desk.lexical)
    assert "600" in rebuilt.ask(SEED_QUESTION, mode="offline").answer
    assert "zzstaleword" not in cache.load().vocabulary  # the rebuild saved the cache again

    cache.save(desk.lexical.snapshot())
    again = Factdesk(settings)
    assert again.lexical.search(SEED_QUESTION, 3) == desk.lexical.search(SEED_QUESTION, 3)


def test_a_changed_store_is_not_served_the_old_index(tmp_path: Path) -> None:
    from service.desk import Factdesk

    settings = make_settings(tmp_path / "data")
    desk = seeded_desk(settings)
    desk.close()
    desk.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")  # not in the saved cache
    reopened = Factdesk(settings)
    assert len(reopened.lexical) == len(desk.lexical)
    assert any(cid.startswith("apple-harvest:") for cid, _ in
               reopened.lexical.search("apple harvest orchard growers", 3))


def test_a_damaged_or_missing_cache_only_costs_a_rebuild(tmp_path: Path) -> None:
    from service.desk import Factdesk

    settings: Settings = make_settings(tmp_path / "data")
    desk = seeded_desk(settings)
    desk.close()
    expected = desk.lexical.terms()
    cache = TermCache(settings.data_dir)
    cache.path.write_bytes(b"not an npz file")
    assert Factdesk(settings).lexical.terms() == expected
    assert cache.load().terms == expected  # the rebuild wrote a good cache again
    cache.path.unlink()
    assert Factdesk(settings).lexical.terms() == expected


def test_the_server_keeps_its_index_when_it_shuts_down(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    settings = make_settings(tmp_path / "data")
    desk = seeded_desk(settings)  # ingested after opening: nothing cached yet
    cache = TermCache(settings.data_dir)
    assert not cache.path.exists()
    with TestClient(create_app(desk)) as client:
        assert client.get("/healthz").status_code == 200
    saved = cache.load()
    assert saved.terms == desk.lexical.terms() and saved.ids
