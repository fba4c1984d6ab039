"""`factdesk doctor`: what an interrupted write can leave in Chroma, found, counted and repaired
(on a real embedded Chroma; the leftovers are written into it as a crash would leave them)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings, get_settings
from service.desk import Factdesk
from tests.samples import SEED_ID, TEXT_ARTICLE, chunks_in_chroma, lexical_ids_of, long_article

pytestmark = pytest.mark.integration


def write_leftovers(desk: Factdesk) -> dict[str, int]:
    """Chunks of an unfinished update and of an unfinished first ingest, and an article whose
    record names chunks that are gone (which the write order never leaves; Chroma could)."""
    desk.ingest(long_article("tramway"), "text", document_id="tramway")
    desk.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
    texts = ["The ghost regiment lost 999 soldiers.", "Its 999 dead were never counted."]
    rows = [(f"{SEED_ID}:0000000000000000:{i}", SEED_ID, text) for i, text in enumerate(texts)]
    rows.append(("ghost-doc:1111111111111111:0", "ghost-doc", texts[0]))
    desk.store.chunks.upsert(
        ids=[cid for cid, _, _ in rows],
        documents=[text for _, _, text in rows],
        embeddings=desk.embedder.embed([text for _, _, text in rows]).tolist(),
        metadatas=[{"document_id": doc_id, "version": cid.split(":")[1],
                    "index": int(cid.rsplit(":", 1)[1]), "start": 0, "end": len(text)}
                   for cid, doc_id, text in rows],
    )
    tramway = chunks_in_chroma(desk, "tramway")
    assert len(tramway) > 2
    desk.store.chunks.delete(ids=[tramway[1].chunk.id])
    return {"stale": 2, "orphan": 1, "tramway_chunks": len(tramway)}


@pytest.fixture
def damaged(fresh_desk: Factdesk) -> tuple[Factdesk, dict[str, int]]:
    return fresh_desk, write_leftovers(fresh_desk)


def test_doctor_counts_what_an_interrupted_write_leaves(
    damaged: tuple[Factdesk, dict[str, int]], settings: Settings
) -> None:
    desk, made = damaged
    report = desk.doctor()
    assert report.articles == 3
    assert report.stale_chunks == made["stale"] and report.orphan_chunks == made["orphan"]
    assert report.incomplete_articles == ["tramway"]
    # This desk indexed the chunk that was then deleted behind its back; nothing else differs.
    assert (report.lexical_missing, report.lexical_extra, report.catalog_mismatched) == (0, 1, 0)
    assert report.repaired is None
    assert report.problems == made["stale"] + made["orphan"] + 1 + 1

    # A desk opened afterwards indexes only what the store holds of current versions.
    reopened = Factdesk(settings).doctor()
    assert reopened.lexical_extra == 0 and reopened.incomplete_articles == ["tramway"]


def test_doctor_repair_leaves_only_whole_articles(
    damaged: tuple[Factdesk, dict[str, int]]
) -> None:
    desk, _ = damaged
    seed_chunks = {s.chunk.id for s in chunks_in_chroma(desk, SEED_ID)
                   if not s.chunk.id.startswith(f"{SEED_ID}:0000000000000000:")}
    report = desk.doctor(repair=True)
    assert report.repaired == {"stale_chunks_removed": 3, "incomplete_articles_removed": 1,
                               "articles": 2}
    # The incomplete article is absent: no record, no chunks, not in either index.
    assert desk.store.get_article("tramway") is None
    assert chunks_in_chroma(desk, "tramway") == [] and lexical_ids_of(desk, "tramway") == set()
    assert chunks_in_chroma(desk, "ghost-doc") == []
    assert {s.chunk.id for s in chunks_in_chroma(desk, SEED_ID)} == seed_chunks
    assert lexical_ids_of(desk, SEED_ID) == seed_chunks
    assert sorted(a.id for a in desk.list()) == sorted(["apple-harvest", SEED_ID])

    after = desk.doctor()
    assert after.problems == 0 and after.articles == 2
    assert after.chunks == desk.store.chunks.count() == len(desk.lexical)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("FACTDESK_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_doctor_command_reports_exits_1_and_repairs(
    damaged: tuple[Factdesk, dict[str, int]], cli: CliRunner, settings: Settings
) -> None:
    if settings.chroma_url:
        pytest.skip("the command opens the store of FACTDESK_DATA_DIR")
    found = cli.invoke(app, ["doctor", "--json"])
    assert found.exit_code == 1, found.output
    report = json.loads(found.stdout)
    assert (report["stale_chunks"], report["orphan_chunks"]) == (2, 1)
    assert report["incomplete_articles"] == ["tramway"] and report["problems"] == 4

    plain = cli.invoke(app, ["doctor"])
    assert plain.exit_code == 1
    assert "incomplete articles" in plain.stdout and "tramway" in plain.stdout
    assert "factdesk doctor --repair" in plain.stdout

    repaired = cli.invoke(app, ["doctor", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "removed 3 chunks and 1 incomplete articles" in repaired.stdout

    clean = cli.invoke(app, ["doctor"])
    assert clean.exit_code == 0 and "consistent" in clean.stdout


def test_doctor_on_a_new_store_finds_nothing(cli: CliRunner) -> None:
    result = cli.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["problems"] == 0
