"""One writer for an embedded store, with real processes: while ``factdesk serve`` holds a
data dir, ``factdesk ingest`` into it (no ``--url``) is refused with a message naming the
server's address, and nothing is written; with ``--url`` the same files go through the server,
which answers about them at once. A killed server leaves no lock behind. ``factdesk doctor``
asks a running service what it sees, and finds an inconsistency planted behind its back."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from service.store.owner import StoreInUse, StoreOwner
from tests.chroma_server import ChromaServer, unique_prefix
from tests.reliability.serve import ServeProcess, serve_command, serve_env

pytestmark = pytest.mark.integration

ARTICLE = ("Harbour Probe Owner\n\nThe harbour office of Probe Bay logged 743 fishing boats in "
           "March, the most since records began, the harbour master said on Monday.")


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*serve_command()[:-1], *args],
                          env=serve_env(FACTDESK_DATA_DIR=str(data_dir)), capture_output=True,
                          text=True, timeout=300, check=False)


def test_a_second_writer_is_refused_and_pointed_at_the_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (tmp_path / "probe.txt").write_text(ARTICLE, encoding="utf-8")
    server = ServeProcess(tmp_path / "serve.log",
                          serve_env(FACTDESK_DATA_DIR=str(data_dir))).wait_ready()
    try:
        before = httpx.get(f"{server.url}/healthz", timeout=30).json()
        refused = cli(data_dir, "ingest", str(tmp_path / "probe.txt"))
        assert refused.returncode == 2, refused.stderr
        assert f"--url {server.url}" in refused.stderr and "served by pid" in refused.stderr
        assert httpx.get(f"{server.url}/healthz", timeout=30).json() == before

        sent = cli(data_dir, "ingest", str(tmp_path / "probe.txt"), "--url", server.url)
        assert sent.returncode == 0, sent.stderr
        health = httpx.get(f"{server.url}/healthz", timeout=30).json()
        assert health["documents"] == before["documents"] + 1
        answer = httpx.post(f"{server.url}/v1/ask", timeout=60, json={
            "question": "How many fishing boats did the Probe Bay harbour office log in March?",
            "mode": "offline"}).json()
        assert "743" in answer["answer"]
        assert StoreOwner(data_dir).holder()["address"] == server.url  # type: ignore[index]
        checked = cli(data_dir, "doctor", "--json")  # asks the server that holds the store
        assert checked.returncode == 0, checked.stderr
        assert f"the running service at {server.url}" in checked.stderr
        assert json.loads(checked.stdout)["articles"] == health["documents"]
    finally:
        server.kill9()
    assert StoreOwner(data_dir).holder() is None  # the lock went with the process
    again = cli(data_dir, "ingest", str(tmp_path / "probe.txt"))
    assert again.returncode == 0 and "unchanged" in again.stdout


def test_the_lock_refuses_a_second_holder_until_released(tmp_path: Path) -> None:
    first, second = StoreOwner(tmp_path), StoreOwner(tmp_path)
    first.take("ingest")
    with pytest.raises(StoreInUse, match="factdesk ingest"):
        second.take("ingest")
    first.release()
    second.take("serve", "http://127.0.0.1:9")
    with pytest.raises(StoreInUse, match="--url http://127.0.0.1:9"):
        StoreOwner(tmp_path).take("ingest")
    second.release()


def test_doctor_finds_what_a_running_service_sees_wrong(chroma_server: ChromaServer,
                                                        tmp_path: Path) -> None:
    """A chunk deleted behind the service's back, straight in Chroma's server: the running
    service still indexes it, and `factdesk doctor` (asking that service) says so."""
    import chromadb

    prefix = unique_prefix()
    env = {"FACTDESK_CHROMA_URL": chroma_server.url, "FACTDESK_COLLECTION_PREFIX": prefix}
    server = ServeProcess(tmp_path / "serve.log",
                          serve_env(FACTDESK_DATA_DIR=str(tmp_path / "data"), **env)).wait_ready()
    try:
        def doctor() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*serve_command()[:-1], "doctor", "--json", "--url", server.url],
                env=serve_env(FACTDESK_DATA_DIR=str(tmp_path / "data"), **env),
                capture_output=True, text=True, timeout=300, check=False)

        clean = doctor()
        assert clean.returncode == 0, clean.stderr
        assert json.loads(clean.stdout)["problems"] == 0
        host, port = chroma_server.url.removeprefix("http://").split(":")
        chunks = chromadb.HttpClient(host=host, port=int(port)).get_collection(
            f"{prefix}_chunks")
        planted = chunks.get(limit=1)["ids"][0]
        chunks.delete(ids=[planted])  # the service is not told

        found = doctor()
        assert found.returncode == 1, found.stdout
        report = json.loads(found.stdout)
        assert report["lexical_extra"] == 1  # the service's lexical index still holds it
        assert report["incomplete_articles"] == [planted.split(":")[0]]
        assert "the running service at" in found.stderr
    finally:
        server.stop()
