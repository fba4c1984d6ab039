"""`factdesk serve --workers N`: several worker processes on one Chroma server (and one Redis)
behave as one service: every acknowledged write is visible to the next request on every worker,
rate limits and /metrics count the whole service, CORS preflights are answered without a key.
Refused, with a clear message, on the embedded store."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.config import Settings
from service.desk import Factdesk
from tests.api.keyed import API_KEYS, READ_KEY, WRITE_KEY, bearer
from tests.chroma_server import ChromaServer, unique_prefix
from tests.redis_server import RedisServer
from tests.reliability.serve import ServeProcess, serve_command, serve_env
from tests.samples import SEED_ID, SEEDS_DIR, TEXT_ARTICLE

pytestmark = pytest.mark.integration

ALLOWED_ORIGIN = "https://desk.example.org"
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
                    FACTDESK_DATA_DIR=str(tmp_path / "x"))
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
                                  llm_model=None))
        other.ingest(TEXT_ARTICLE, "text", document_id="apple-harvest")
        for _ in range(6):
            reply = ask_fresh(server.url, question=HARVEST_QUESTION,
                              document_ids=["apple-harvest"])
            assert reply.status_code == 200, reply.text
            assert "18,500" in reply.json()["answer"]

        # And a write through a worker reaches the other machine at its next read.
        posted = server.client.post("/v1/documents", json={
            "id": "ferry-line", "text": "Ferry Line Opens\n\nThe new ferry line between Oskar "
            "Point and Mellow Island carried 2,140 passengers in its first week."})
        assert posted.status_code == 200 and posted.json()["status"] == "created"
        answer = other.ask("How many passengers did the ferry carry in its first week?",
                           document_ids=["ferry-line"])
        assert "2,140" in answer.answer

        other.delete("apple-harvest")
        for _ in range(4):
            gone = ask_fresh(server.url, question=HARVEST_QUESTION,
                             document_ids=["apple-harvest"])
            assert gone.status_code == 404, gone.text
    finally:
        server.stop()
    assert worker_pids(server.process.pid) == []


# ---- one service: consistency, metrics, CORS ---------------------------------------------------


@pytest.fixture(scope="module")
def service(chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[ServeProcess, Path]]:
    """`serve --workers 2` on Chroma's server, with API keys, CORS for one origin, and the
    metrics folder where the test can see each worker's file."""
    folder = tmp_path_factory.mktemp("service")
    metrics_dir = folder / "metrics"
    env = serve_env(FACTDESK_CHROMA_URL=chroma_server.url,
                    FACTDESK_COLLECTION_PREFIX=unique_prefix(),
                    FACTDESK_DATA_DIR=str(folder / "x"), FACTDESK_API_KEYS=API_KEYS,
                    FACTDESK_CORS_ORIGINS=ALLOWED_ORIGIN,
                    PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    server = ServeProcess(folder / "serve.log", env, ["--workers", "2"]).wait_ready()
    try:
        yield server, metrics_dir
    finally:
        server.stop()


def fresh(url: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    """One request on a new connection, so the kernel may hand it to either worker."""
    with httpx.Client(base_url=url, timeout=60) as client:
        return client.request(method, path, **kwargs)  # type: ignore[arg-type]


def probe_text(n: int, boats: int) -> str:
    return (f"Harbour Probe {n}\n\nThe harbour office of Probe Bay {n} logged {boats} fishing "
            f"boats on the morning of the count, its clerk said.")


def test_every_acknowledged_write_is_visible_to_the_next_request_on_every_worker(
    service: tuple[ServeProcess, Path]
) -> None:
    server, _ = service
    rng = random.Random(7)
    live: dict[str, int] = {}  # id -> the number of boats its current text gives
    checks = misses = 0
    for step in range(36):
        doc_id = f"probe-{rng.randrange(6)}"
        if doc_id in live and rng.random() < 0.35:
            reply = fresh(server.url, "DELETE", f"/v1/documents/{doc_id}",
                          headers=bearer(WRITE_KEY))
            assert reply.status_code == 200, reply.text
            del live[doc_id]
        else:
            boats = 1000 + step * 7
            reply = fresh(server.url, "POST", "/v1/documents", headers=bearer(WRITE_KEY),
                          json={"id": doc_id, "text": probe_text(step, boats)})
            assert reply.status_code == 200, reply.text
            live[doc_id] = boats
        # Acknowledged: the next requests, whichever worker takes them, see it.
        for _ in range(3):
            asked = fresh(server.url, "POST", "/v1/ask", headers=bearer(READ_KEY),
                          json={"question": "How many fishing boats did the harbour office "
                                            "log?", "document_ids": [doc_id], "mode": "offline"})
            checks += 1
            if doc_id not in live:
                misses += asked.status_code != 404
            else:
                texts = [p["text"] for p in asked.json().get("passages", [])]
                misses += not (asked.status_code == 200 and texts
                               and all(f"{live[doc_id]} fishing" in t for t in texts))
    assert checks == 108
    assert misses == 0
    listed = fresh(server.url, "GET", "/v1/documents", headers=bearer(READ_KEY)).json()
    assert {d["id"] for d in listed["documents"]} - {SEED_ID} == set(live)


def counter_value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_metrics_on_any_worker_count_the_whole_service(
    service: tuple[ServeProcess, Path]
) -> None:
    from prometheus_client.mmap_dict import MmapedDict

    server, metrics_dir = service
    name = "factdesk_http_requests_total"
    labels = {"method": "GET", "route": "/healthz", "status": "200"}
    before = counter_value(fresh(server.url, "GET", "/metrics", headers=bearer(READ_KEY)).text,
                           name, **labels)

    def served_by() -> dict[str, float]:
        """/healthz requests each worker's own file counts."""
        counts = {}
        for path in metrics_dir.glob("counter_*.db"):
            values = MmapedDict.read_all_values_from_file(str(path))
            counts[path.stem] = sum(value for key, value, _, _ in values
                                    if '"/healthz"' in key and "http_requests_total" in key)
        return counts

    sent = 0
    while sent < 200 and (sent < 20 or sum(v > 0 for v in served_by().values()) < 2):
        assert fresh(server.url, "GET", "/healthz").status_code == 200
        sent += 1
    assert sum(v > 0 for v in served_by().values()) == 2, served_by()  # both workers served
    # Any worker's /metrics has them all (each ask of /metrics may go to either worker).
    for _ in range(4):
        text = fresh(server.url, "GET", "/metrics", headers=bearer(READ_KEY)).text
        assert counter_value(text, name, **labels) == before + sent
    assert counter_value(text, "factdesk_documents") >= 1


def test_cors_preflight_from_an_allowed_origin_needs_no_key(
    service: tuple[ServeProcess, Path]
) -> None:
    server, _ = service
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = fresh(server.url, "OPTIONS", "/v1/ask",
                    headers={"Origin": ALLOWED_ORIGIN, **preflight})
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    other = fresh(server.url, "OPTIONS", "/v1/ask",
                  headers={"Origin": "https://elsewhere.example.com", **preflight})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    # The request itself still needs its key, and its answer carries CORS headers.
    keyless = fresh(server.url, "GET", "/v1/documents", headers={"Origin": ALLOWED_ORIGIN})
    assert keyless.status_code == 401
    assert keyless.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    keyed = fresh(server.url, "GET", "/v1/documents",
                  headers={"Origin": ALLOWED_ORIGIN, **bearer(READ_KEY)})
    assert keyed.status_code == 200
    assert keyed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


# ---- rate limits shared through Redis ----------------------------------------------------------

LIMIT = 8


def test_a_rate_limit_counts_across_workers_and_survives_redis_going_away(
    chroma_server: ChromaServer, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis")
    env = serve_env(FACTDESK_CHROMA_URL=chroma_server.url,
                    FACTDESK_COLLECTION_PREFIX=unique_prefix(),
                    FACTDESK_DATA_DIR=str(tmp_path / "x"), FACTDESK_API_KEYS=API_KEYS,
                    FACTDESK_REDIS_URL=redis.url, FACTDESK_RATE_LIMIT_PER_MINUTE=str(LIMIT),
                    FACTDESK_RATE_LIMIT_FAIL="open")
    server = ServeProcess(tmp_path / "serve.log", env, ["--workers", "2"]).wait_ready()
    try:
        statuses = [fresh(server.url, "GET", "/v1/documents",
                          headers=bearer(READ_KEY)).status_code for _ in range(3 * LIMIT)]
        assert statuses.count(200) == LIMIT  # R in all, not R per worker
        assert set(statuses[LIMIT:]) == {429}
        assert fresh(server.url, "GET", "/v1/documents",
                     headers=bearer(WRITE_KEY)).status_code == 200  # another key, its own R
        health = fresh(server.url, "GET", "/healthz").json()
        assert health["status"] == "ok"
        assert health["rate_limit"]["store"] == "redis" and health["rate_limit"]["reachable"]

        redis.stop()  # failing open: served, unlimited, and said so
        during = [fresh(server.url, "GET", "/v1/documents", headers=bearer(READ_KEY))
                  for _ in range(6)]
        assert [r.status_code for r in during] == [200] * 6
        for _ in range(2):  # each worker's health says so once it has met the failure
            health = fresh(server.url, "GET", "/healthz").json()
            assert health["status"] == "degraded"
            assert health["rate_limit"]["reachable"] is False
            assert health["rate_limit"]["error"]
        text = fresh(server.url, "GET", "/metrics", headers=bearer(READ_KEY)).text
        assert counter_value(text, "factdesk_rate_limit_store_failures_total") >= 6
        assert "rate limit store (redis) unreachable, failing open" in server.log_tail(20000)

        redis.start()  # back: limits apply again (a fresh Redis holds no counts)
        statuses = [fresh(server.url, "GET", "/v1/documents",
                          headers=bearer(READ_KEY)).status_code for _ in range(2 * LIMIT)]
        assert statuses.count(200) == LIMIT and statuses[-1] == 429
        for _ in range(2):
            assert fresh(server.url, "GET", "/healthz").json()["status"] == "ok"
    finally:
        server.stop()
        redis.stop()


def test_cli_ingest_sends_batches_to_the_service(
    service: tuple[ServeProcess, Path], tmp_path: Path
) -> None:
    server, _ = service
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(5):
        (folder / f"cli-probe-{n}.txt").write_text(probe_text(100 + n, 500 + n))
    (folder / "broken.txt").write_bytes(b"\xff\xfe\x00bad")
    env = serve_env(FACTDESK_API_KEY=WRITE_KEY)
    result = subprocess.run(
        [*serve_command()[:-1], "ingest", str(folder), "--url", server.url, "--batch", "2"],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1  # one file failed
    assert "broken.txt" in result.stderr and "UTF-8" in result.stderr
    assert result.stdout.count("created") == 5
    assert "5 of 6 articles ingested" in result.stderr and "chunks/s" in result.stderr
    listed = fresh(server.url, "GET", "/v1/documents", headers=bearer(READ_KEY)).json()
    assert {f"cli-probe-{n}" for n in range(5)} <= {d["id"] for d in listed["documents"]}
    again = subprocess.run(
        [*serve_command()[:-1], "ingest", str(folder / "cli-probe-0.txt"), "--url", server.url],
        env=serve_env(), capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 2 and "401" in again.stderr  # no key: refused, said so
