"""The lexical index's terms survive a restart, and the cache can never serve stale terms."""

from __future__ import annotations

import pickle
from pathlib import Path

from service.config import Settings
from service.retrieve.lexical import LexicalSnapshot
from service.retrieve.term_cache import TermCache
from tests.conftest import make_settings, seeded_desk
from tests.samples import SEED_ID, SEED_QUESTION, TEXT_ARTICLE


def test_a_restart_takes_the_terms_from_the_cache(tmp_path: Path) -> None:
    from service.desk import Factdesk

    settings = make_settings(tmp_path / "data")
    desk = seeded_desk(settings)
    desk.close()
    cache = TermCache(settings.data_dir)
    saved = cache.load()
    assert saved.terms == desk.lexical.terms() and saved.terms
    assert saved.retriever is not None and sorted(saved.ids) == sorted(saved.terms)

    # The store unchanged: the saved model is used as it is.
    reopened = Factdesk(settings)
    assert reopened.lexical.snapshot().retriever is not None
    assert reopened.lexical.search(SEED_QUESTION, 3) == desk.lexical.search(SEED_QUESTION, 3)
    assert reopened.ask(SEED_QUESTION, mode="offline").answer == "600"

    # Mark one cached chunk with a word its text does not hold, and drop the model: if the
    # restarted desk finds the chunk by that word, its terms came from the cache, not from
    # re-reading the chunk. An entry of a version that is not stored must be ignored.
    marked = sorted(saved.terms)[0]
    terms = dict(saved.terms)
    terms[marked] = [*terms[marked], "zzcachedword"]
    terms[f"{SEED_ID}:0000000000000000:0"] = ["zzstaleword"]
    cache.save(LexicalSnapshot(terms, list(terms), {}, None))
    rebuilt = Factdesk(settings)
    assert [cid for cid, _ in rebuilt.lexical.search("zzcachedword", 5)] == [marked]
    assert rebuilt.lexical.search("zzstaleword", 5) == []
    assert len(rebuilt.lexical) == len(desk.lexical)
    assert rebuilt.ask(SEED_QUESTION, mode="offline").answer == "600"


def test_a_changed_store_is_not_served_the_old_model(tmp_path: Path) -> None:
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
    index = TermCache(settings.data_dir).path
    index.write_bytes(b"not a pickle")
    assert Factdesk(settings).lexical.terms() == expected
    # The rebuild wrote a good cache again.
    with index.open("rb") as f:
        assert pickle.load(f)["terms"] == expected
    index.unlink()
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
    assert saved.terms == desk.lexical.terms() and saved.retriever is not None
