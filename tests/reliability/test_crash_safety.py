"""kill -9 of `factdesk serve` in the middle of a batch ingest (embedded store): after a restart
every article is whole (its record, every chunk of its version in Chroma, the lexical index,
found by a question restricted to it) or absent, and `factdesk doctor` finds and removes what
the interrupted writes left."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.chunk.chunker import chunk_id
from service.config import Settings
from service.desk import Factdesk
from service.errors import DocumentNotFound
from tests.reliability.serve import ServeProcess, serve_env
from tests.samples import SEEDS_DIR, chunks_in_chroma, lexical_ids_of, long_article

pytestmark = pytest.mark.integration

ARTICLES = 40
KILL_AFTER = 8  # articles stored before the kill; the rest are in flight or not yet sent
SENDERS = 3


def article(n: int) -> tuple[str, str, str]:
    """(id, text, topic word) of a synthetic article of several chunks."""
    topic = f"aqueduct{n:02d}"
    return f"batch-{n:02d}", long_article(topic, paragraphs=4 + n % 3), topic


def kill_during_next_write(server: ServeProcess, data_dir: Path) -> None:
    """kill -9 the server just after its next commit to Chroma's SQLite file: the chunks of
    the article being written are stored, its record (the commit point) most likely not yet.
    The test only watches the file's mtime and rollback journal from outside."""
    database = data_dir / "chroma.sqlite3"
    journal = database.with_name("chroma.sqlite3-journal")
    before = database.stat().st_mtime_ns
    settled = time.monotonic()
    while time.monotonic() - settled < 0.03:  # let the last commit's own after-work finish
        time.sleep(0.001)
        if (now := database.stat().st_mtime_ns) != before:
            before, settled = now, time.monotonic()
    deadline = time.monotonic() + 10
    while database.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.0002)
    while journal.exists() and time.monotonic() < deadline:  # that transaction is complete
        time.sleep(0.0002)
    server.kill9()


def ingest_until_killed(server: ServeProcess, data_dir: Path) -> set[str]:
    """POST every article from a few senders at once; once KILL_AFTER of them are stored,
    kill -9 the server in its next write. Returns the ids the server said it stored."""
    stored: set[str] = set()
    enough = threading.Event()
    lock = threading.Lock()

    def send(n: int) -> None:
        if enough.is_set():
            return
        doc_id, text, _ = article(n)
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                reply = client.post("/v1/documents", json={"text": text, "id": doc_id})
        except httpx.HTTPError:
            return  # the server died under this request
        if reply.status_code == 200:
            assert reply.json()["status"] == "created"
            with lock:
                stored.add(doc_id)
                if len(stored) >= KILL_AFTER:
                    enough.set()

    with ThreadPoolExecutor(SENDERS) as pool:
        for n in range(ARTICLES):
            pool.submit(send, n)
        assert enough.wait(timeout=120), f"only {len(stored)} stored:\n{server.log_tail()}"
        kill_during_next_write(server, data_dir)
    return set(stored)


def leftovers_in_chroma(desk: Factdesk) -> int:
    """Chunks whose article record does not name their version, counted from Chroma directly."""
    records = {doc_id: version for doc_id, version in desk.store.versions().items()}
    got = desk.store.chunks.get(include=["metadatas"])
    return sum(records.get(str(m["document_id"])) != m["version"] for m in got["metadatas"] or [])


def test_kill_9_mid_batch_leaves_every_article_whole_or_absent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = serve_env(FACTDESK_DATA_DIR=str(data_dir))
    log = tmp_path / "serve.log"
    stored = ingest_until_killed(ServeProcess(log, env, ["--no-seed"]).wait_ready(), data_dir)
    assert len(stored) >= KILL_AFTER

    # Restarted on the same data dir, the server lists and answers from whole articles only.
    restarted = ServeProcess(log, env, ["--no-seed"]).wait_ready()
    try:
        listed = {d["id"]: d for d in restarted.client.get("/v1/documents").json()["documents"]}
        assert stored <= listed.keys()
        assert len(listed) < ARTICLES, "the kill came after the whole batch"
        assert restarted.client.get("/healthz").json()["documents"] == len(listed)
        for doc_id in sorted(listed)[:3]:
            topic = article(int(doc_id[-2:]))[2]
            answer = restarted.client.post("/v1/ask", json={
                "question": f"Who asked how the {topic} would be paid for?",
                "document_ids": [doc_id]}).json()
            assert answer["passages"]
            assert {p["document_id"] for p in answer["passages"]} == {doc_id}
            assert any(topic in p["text"] for p in answer["passages"])
        # It still takes writes.
        late_id, late_text, _ = article(ARTICLES)
        late = restarted.client.post("/v1/documents", json={"text": late_text, "id": late_id})
        assert late.status_code == 200 and late.json()["status"] == "created"
    finally:
        restarted.stop()

    desk = Factdesk(Settings(data_dir=data_dir, seeds_dir=SEEDS_DIR, llm_model=None))
    whole = 0
    for n in range(ARTICLES + 1):
        doc_id, _, topic = article(n)
        record = desk.store.get_article(doc_id)
        if record is None:  # absent: in neither index, and no question can name it
            assert doc_id not in stored
            assert lexical_ids_of(desk, doc_id) == set()
            with pytest.raises(DocumentNotFound):
                desk.ask(f"What did the council discuss about the {topic}?", top_k=3,
                         document_ids=[doc_id])
            continue
        found, version = record
        expected = {chunk_id(doc_id, version, i) for i in range(found.chunk_count)}
        held = {s.chunk.id: s for s in chunks_in_chroma(desk, doc_id)}
        assert found.chunk_count > 1 and expected <= held.keys()
        assert all(found.text[s.chunk.start : s.chunk.end] == s.chunk.text
                   for cid, s in held.items() if cid in expected)
        assert lexical_ids_of(desk, doc_id) == expected
        answer = desk.ask(f"Who asked how the {topic} would be paid for?", top_k=3,
                          document_ids=[doc_id])
        assert answer.passages and {p.chunk.id for p in answer.passages} <= expected
        whole += 1
    assert whole == len(listed) + 1

    # What the interrupted write left (most often the chunks of the article it was writing):
    # doctor counts exactly the chunks no record names. Every write was a first one, so none
    # is of another version of a stored article.
    report = desk.doctor()
    assert report.orphan_chunks == leftovers_in_chroma(desk) and report.stale_chunks == 0
    assert report.incomplete_articles == []
    assert (report.lexical_missing, report.lexical_extra, report.catalog_mismatched) == (0, 0, 0)
    repaired = desk.doctor(repair=True)
    assert repaired.repaired is not None
    assert repaired.repaired["stale_chunks_removed"] == report.problems
    assert leftovers_in_chroma(desk) == 0 and desk.doctor().problems == 0
    assert desk.store.chunks.count() == len(desk.lexical)
