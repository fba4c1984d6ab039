"""`factdesk serve --workers N`: several worker processes on one Chroma server, each seeing the
others' writes within the sync interval; refused, with a clear message, on the embedded store."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from service.config import Settings
from service.desk import Factdesk
from tests.chroma_server import ChromaServer, unique_prefix
from tests.reliability.serve import ServeProcess, serve_command, serve_env
from tests.samples import SEED_ID, SEEDS_DIR, TEXT_ARTICLE

pytestmark = pytest.mark.integration

INTERVAL = 0.5
HARVEST_QUESTION = "How many tonnes of apples did the Vellan Valley growers pick?"


def test_several_workers_on_the_embedded_store_are_refused(tmp_path: Path) -> None:
    env = serve_env(FACTDESK_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(serve_command("--workers", "2"), env=env, capture_output=True,
                            check=False,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "--workers 2 needs Chroma's server" in result.stderr
    assert "FACTDESK_CHROMA_URL" in result.stderr and "chroma run" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before opening any store


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes: children of ``parent`` started by multiprocessing."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = stat.with_name("cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def ask_fresh(url: str, **body: object) -> httpx.Response:
    """One request on a new connection, so the kernel may hand it to either worker."""
    with httpx.Client(base_url=url, timeout=60) as client:
        return client.post("/v1/ask", json=body)


def test_two_workers_share_one_chroma_server(chroma_server: ChromaServer, tmp_path: Path) -> None:
    prefix = unique_prefix()
    env = serve_env(FACTDESK_CHROMA_URL=chroma_server.url, FACTDESK_COLLECTION_PREFIX=prefix,
                    FACTDESK_SYNC_INTERVAL=str(INTERVAL), FACTDESK_DATA_DIR=str(tmp_path / "x"))
    server = ServeProcess(tmp_path / "serve.log", env, ["--workers", "2"]).wait_ready()
    try:
        assert len(worker_pids(server.process.pid)) == 2
        # The supervising process seeded the empty store once, before the workers started.
        assert server.log_tail().count(f"seeded {SEED_ID}") == 1
        listed = server.client.get("/v1/documents").json()
        assert [d["id"] for d in listed["documents"]] == [SEED_ID]

        # Another machine (this process) writes to the same store; neither worker wrote it,
        # so every worker that answers has it from its sync.
        other = Factdesk(Settings(data_dir=tmp_path / "unused", chroma_url=chroma_server.url,
                                  collection_prefix=prefix, seeds_dir=SEEDS_DIR,
                                  llm_model=None, sync_interval=INTERVAL))
        other.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
        time.sleep(INTERVAL)
        for _ in range(6):
            reply = ask_fresh(server.url, question=HARVEST_QUESTION,
                              document_ids=["apple-harvest"])
            assert reply.status_code == 200, reply.text
            assert "18,500" in reply.json()["answer"]

        # And a write through a worker reaches the other machine within the interval.
        posted = server.client.post("/v1/documents", json={
            "id": "ferry-line", "text": "Ferry Line Opens\n\nThe new ferry line between Oskar "
            "Point and Mellow Island carried 2,140 passengers in its first week."})
        assert posted.status_code == 200 and posted.json()["status"] == "created"
        time.sleep(INTERVAL)
        answer = other.ask("How many passengers did the ferry carry in its first week?",
                           document_ids=["ferry-line"])
        assert "2,140" in answer.answer

        other.delete("apple-harvest")
        time.sleep(INTERVAL)
        for _ in range(4):
            gone = ask_fresh(server.url, question=HARVEST_QUESTION,
                             document_ids=["apple-harvest"])
            assert gone.status_code == 404, gone.text
    finally:
        server.stop()
    assert worker_pids(server.process.pid) == []
