"""Several desks on one Chroma server (``chroma run``), as several workers or machines share it:
each sees the others' writes within its sync interval, and concurrent writes never leave an
article that names missing chunks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from service.config import Settings
from service.desk import Factdesk
from service.errors import DocumentNotFound
from tests.chroma_server import ChromaServer, unique_prefix
from tests.samples import SEEDS_DIR, TEXT_ARTICLE, chunks_in_chroma, lexical_ids_of, long_article

pytestmark = pytest.mark.integration

INTERVAL = 0.5
HARVEST_QUESTION = "How many tonnes of apples did the Vellan Valley growers pick?"


def server_settings(server: ChromaServer, prefix: str, tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path / "unused", chroma_url=server.url, collection_prefix=prefix,
                    seeds_dir=SEEDS_DIR, llm_model=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def two_desks(chroma_server: ChromaServer, tmp_path: Path) -> tuple[Factdesk, Factdesk]:
    prefix = unique_prefix()
    writer = Factdesk(server_settings(chroma_server, prefix, tmp_path))
    reader = Factdesk(server_settings(chroma_server, prefix, tmp_path, sync_interval=INTERVAL))
    return writer, reader


def after_interval(since: float) -> None:
    time.sleep(max(0.0, since + INTERVAL - time.monotonic()))


def test_writes_through_one_desk_reach_the_other_within_the_sync_interval(
    two_desks: tuple[Factdesk, Factdesk]
) -> None:
    writer, reader = two_desks
    writer.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    written = time.monotonic()
    after_interval(written)
    answer = reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    assert "18,500" in answer.answer
    assert {c.document_id for c in answer.citations} == {"apple-harvest"}
    assert lexical_ids_of(reader, "apple-harvest") == lexical_ids_of(writer, "apple-harvest")

    # An update replaces the old chunks in the reader's lexical index too.
    writer.ingest(long_article("tramway"), "text", document_id="apple-harvest")
    after_interval(time.monotonic())
    found = reader.ask("Who asked how the tramway would be paid for?")
    assert found.passages and all(p.chunk.document_id == "apple-harvest" for p in found.passages)
    assert "tramway" in found.passages[0].chunk.text
    assert lexical_ids_of(reader, "apple-harvest") == {
        s.chunk.id for s in chunks_in_chroma(writer, "apple-harvest")}

    writer.delete("apple-harvest")
    after_interval(time.monotonic())
    with pytest.raises(DocumentNotFound):
        reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    assert lexical_ids_of(reader, "apple-harvest") == set()
    assert reader.counts() == (0, 0)


def test_a_reader_syncs_at_most_once_an_interval(
    chroma_server: ChromaServer, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    writer = Factdesk(server_settings(chroma_server, prefix, tmp_path))
    reader = Factdesk(server_settings(chroma_server, prefix, tmp_path, sync_interval=600))
    writer.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    # Within the interval the reader keeps its catalog: the new article is not yet known ...
    with pytest.raises(DocumentNotFound):
        reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    reader.sync(force=True)
    # ... and once synced, it is.
    answer = reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    assert "18,500" in answer.answer


def run_together(*actions: Callable[[], object]) -> None:
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_concurrent_writes_of_one_article_from_two_desks_leave_it_whole(
    two_desks: tuple[Factdesk, Factdesk]
) -> None:
    first, second = two_desks
    for n, (one, other) in enumerate([("tramway", "ferry"), ("bridge", "tunnel"),
                                      ("stadium", "library")]):
        texts = (long_article(one, 6 + n), long_article(other, 9 - n))
        run_together(partial(first.ingest, texts[0], "text", document_id="contested"),
                     partial(second.ingest, texts[1], "text", document_id="contested"))
        record = first.store.get_article("contested")
        assert record is not None
        article, version = record
        current = [s for s in chunks_in_chroma(first, "contested") if s.version == version]
        # Whichever write committed last, its article names chunks that are all there.
        assert sorted(s.chunk.index for s in current) == list(range(article.chunk_count))
        assert all(article.text[s.chunk.start : s.chunk.end] == s.chunk.text for s in current)
        assert first.doctor().incomplete_articles == []
    # The losing writes' chunks are leftovers that readers ignore and repair removes.
    repaired = first.doctor(repair=True)
    assert repaired.repaired is not None and repaired.repaired["incomplete_articles_removed"] == 0
    second.sync(force=True)
    assert first.doctor().problems == 0 and second.doctor().problems == 0


def test_a_sync_never_applies_a_snapshot_older_than_this_desks_own_write(
    fresh_desk: Factdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This desk updates an article twice while a sync is reading the store: the sync's snapshot
    holds the first update, the desk's catalog the second. The sync must leave the second."""
    desk = fresh_desk
    desk.ingest(long_article("tramway", 3), "text", document_id="local")
    read_store = desk.store.list_articles

    def snapshot_between_two_writes(with_text: bool = False) -> list:  # type: ignore[type-arg]
        monkeypatch.setattr(desk.store, "list_articles", read_store)  # once
        desk.ingest(long_article("ferry", 3), "text", document_id="local")
        snapshot = read_store(with_text)
        desk.ingest(long_article("monorail", 3), "text", document_id="local")
        return snapshot

    monkeypatch.setattr(desk.store, "list_articles", snapshot_between_two_writes)
    desk.sync(force=True)
    latest = {s.chunk.id for s in chunks_in_chroma(desk, "local")}
    assert all("monorail" in s.chunk.text for s in chunks_in_chroma(desk, "local"))
    assert lexical_ids_of(desk, "local") == latest
    answer = desk.ask("What did the council discuss?", document_ids=["local"])
    assert answer.passages and {p.chunk.id for p in answer.passages} <= latest
    report = desk.doctor()
    assert (report.catalog_mismatched, report.lexical_missing, report.lexical_extra) == (0, 0, 0)


def test_a_sync_reads_the_records_only_when_the_store_says_it_changed(
    two_desks: tuple[Factdesk, Factdesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, reader = two_desks
    writer.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    reader.sync(force=True)
    reads: list[int] = []
    listing = reader.store.list_articles
    monkeypatch.setattr(reader.store, "list_articles",
                        lambda *a, **k: reads.append(1) or listing(*a, **k))  # counts reads
    after_interval(time.monotonic())
    reader.ask(HARVEST_QUESTION)
    assert reads == []  # nothing written since: the token alone was read
    writer.delete("apple-harvest")
    after_interval(time.monotonic())
    answer = reader.ask(HARVEST_QUESTION)
    assert reads == [1]
    assert all(p.chunk.document_id != "apple-harvest" for p in answer.passages)
