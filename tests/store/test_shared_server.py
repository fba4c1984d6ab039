"""Several desks on one Chroma server (``chroma run``), as several workers or machines share it:
each sees the others' acknowledged writes at its next read, and concurrent writes never leave an
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

HARVEST_QUESTION = "How many tonnes of apples did the Vellan Valley growers pick?"


def server_settings(server: ChromaServer, prefix: str, tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path / "unused", chroma_url=server.url, collection_prefix=prefix,
                    seeds_dir=SEEDS_DIR, llm_model=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def two_desks(chroma_server: ChromaServer, tmp_path: Path) -> tuple[Factdesk, Factdesk]:
    prefix = unique_prefix()
    writer = Factdesk(server_settings(chroma_server, prefix, tmp_path))
    reader = Factdesk(server_settings(chroma_server, prefix, tmp_path))
    return writer, reader


def test_writes_through_one_desk_reach_the_other_at_its_next_read(
    two_desks: tuple[Factdesk, Factdesk]
) -> None:
    writer, reader = two_desks
    writer.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    answer = reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    assert "18,500" in answer.answer
    assert {c.document_id for c in answer.citations} == {"apple-harvest"}
    assert lexical_ids_of(reader, "apple-harvest") == lexical_ids_of(writer, "apple-harvest")

    # An update replaces the old chunks in the reader's lexical index too.
    writer.ingest(long_article("tramway"), "text", document_id="apple-harvest")
    found = reader.ask("Who asked how the tramway would be paid for?")
    assert found.passages and all(p.chunk.document_id == "apple-harvest" for p in found.passages)
    assert "tramway" in found.passages[0].chunk.text
    assert lexical_ids_of(reader, "apple-harvest") == {
        s.chunk.id for s in chunks_in_chroma(writer, "apple-harvest")}

    writer.delete("apple-harvest")
    with pytest.raises(DocumentNotFound):
        reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    assert lexical_ids_of(reader, "apple-harvest") == set()
    assert reader.counts() == (0, 0)


def test_a_write_whose_change_record_was_lost_arrives_with_the_background_recheck(
    chroma_server: ChromaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = unique_prefix()
    writer = Factdesk(server_settings(chroma_server, prefix, tmp_path))
    reader = Factdesk(server_settings(chroma_server, prefix, tmp_path, full_sync_interval=0.5))
    # Fault injected: the writer dies between its commit and its change record (no real part
    # can be stopped at that point on demand), so no change record tells the reader.
    monkeypatch.setattr(writer.store, "log_changes", lambda written: None)
    writer.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    deadline = time.monotonic() + 30
    while "apple-harvest" not in reader.view.catalog and time.monotonic() < deadline:
        time.sleep(0.1)
    answer = reader.ask(HARVEST_QUESTION, document_ids=["apple-harvest"])
    assert "18,500" in answer.answer
    assert lexical_ids_of(reader, "apple-harvest") == lexical_ids_of(writer, "apple-harvest")


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


def test_a_sync_reads_only_the_changed_articles(
    two_desks: tuple[Factdesk, Factdesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, reader = two_desks
    writer.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    writer.ingest(long_article("tramway", 3), "text", document_id="tramway")
    reader.sync()
    assert reader.counts() == writer.counts()
    full_reads: list[int] = []
    records: list[list[str]] = []
    chunks: list[list[str]] = []
    listing, versions, get_chunks = (reader.store.list_articles, reader.store.article_versions,
                                     reader.store.get_chunks)
    monkeypatch.setattr(reader.store, "list_articles",
                        lambda *a, **k: full_reads.append(1) or listing(*a, **k))
    monkeypatch.setattr(reader.store, "article_versions",
                        lambda ids: records.append(list(ids)) or versions(ids))
    monkeypatch.setattr(reader.store, "get_chunks",
                        lambda ids: chunks.append(list(ids)) or get_chunks(ids))
    reader.sync()
    assert records == [] and chunks == []  # nothing written since: the change records alone
    writer.ingest(long_article("ferry", 4), "text", document_id="tramway")
    reader.sync()
    assert records == [["tramway"]]
    stored = [s.chunk.id for s in chunks_in_chroma(writer, "tramway")]
    assert sorted(chunks[0]) == sorted(stored)
    answer = reader.ask("What did the council discuss about the ferry?")
    assert answer.passages and answer.passages[0].chunk.id in stored
    writer.delete("apple-harvest")
    answer = reader.ask(HARVEST_QUESTION)
    assert records[1:] == [["apple-harvest"]]
    assert all(p.chunk.document_id != "apple-harvest" for p in answer.passages)
    assert full_reads == []
    assert reader.counts() == writer.counts()


def test_a_sync_never_reverts_an_own_write_made_while_it_read(
    two_desks: tuple[Factdesk, Factdesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another desk writes an article; while this desk's sync reads that article's record,
    this desk writes it again. The sync must leave this desk's newer write in place."""
    other, desk = two_desks
    other.ingest(long_article("tramway", 3), "text", document_id="shared")
    versions = desk.store.article_versions

    def read_then_write(ids: list[str]) -> dict:  # type: ignore[type-arg]
        monkeypatch.setattr(desk.store, "article_versions", versions)  # once
        rows = versions(ids)
        desk.ingest(long_article("monorail", 3), "text", document_id="shared")
        return rows

    monkeypatch.setattr(desk.store, "article_versions", read_then_write)
    desk.sync()
    latest = {s.chunk.id for s in chunks_in_chroma(desk, "shared")}
    assert lexical_ids_of(desk, "shared") == latest
    assert all("monorail" in s.chunk.text for s in chunks_in_chroma(desk, "shared"))
    desk.sync()
    assert lexical_ids_of(desk, "shared") == latest
    report = desk.doctor()
    assert (report.catalog_mismatched, report.lexical_missing, report.lexical_extra) == (0, 0, 0)
