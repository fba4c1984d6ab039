"""Concurrent load on `factdesk serve` (its own process, embedded store, the seed ingested): for
a bounded time, writers create, update, re-send and delete documents while many readers ask
(plain and streamed), summarize, list and check health.

Throughout: no 5xx (nor an ``error`` event in a stream), no unexpected 4xx, no listing that
holds a document twice, and every citation exact. A citation is checked against the text the
document has just after the answer whenever no write to that document overlapped the request
(``text[start:end] == quote``); otherwise, at the end, against every text the document ever had.
At the end the documents are exactly those the writers expect (created minus deleted, once
each), each with its latest text and chunk count, and the store, reopened, is consistent.

Each writer owns its documents, so what each should hold is known without guessing at the order
of concurrent writes; a 404 is expected only for a document whose deletion has begun.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import Settings
from service.desk import Factdesk
from tests.api.sse import parse_sse
from tests.reliability.serve import ServeProcess, serve_env
from tests.samples import SEED_ID, SEED_QUESTION, SEEDS_DIR, chunks_in_chroma

pytestmark = pytest.mark.integration

LOAD_SECONDS = 20.0
WRITERS = 3
READERS = 8
REQUEST_TIMEOUT = 60.0
SYLLABLES = ["bar", "cor", "dun", "fel", "gar", "hol", "kin", "lor", "mar", "nor", "pel",
             "quin", "ros", "tal", "vin", "wex"]
MONTHS = ["January", "March", "May", "July", "September", "November"]


def place_name(owner: int, n: int) -> str:
    """A made-up town name, different for every (writer, document)."""
    k = owner * 64 + n
    return (SYLLABLES[k % 16] + SYLLABLES[(k // 16) % 16] + SYLLABLES[(k // 256) % 16]
            + "ton").title()


def article_text(place: str, version: int) -> str:
    """An article about ``place`` whose facts and length (so its chunk count) change with
    ``version``."""
    passengers = 1000 + 137 * version + len(place) * 11
    paragraphs = [
        f"{place} Ferry Carries Record Numbers",
        (f"The ferry between {place} and the mainland carried {passengers:,} passengers in "
         f"{MONTHS[version % len(MONTHS)]}, the operator said on Thursday."),
    ]
    for k in range(1, 2 + (version * 3) % 7):
        paragraphs.append(
            f"In the {k}th report on {place}, the harbour master said the crossing had run "
            f"{k + version} extra sailings, and that the pier would be repaired before winter. "
            f"Residents of {place} asked for a second boat, and the council said it would "
            f"decide within {k + 2} months.")
    return "\n\n".join(paragraphs) + "\n"


def question_about(place: str) -> str:
    return f"How many passengers did the ferry between {place} and the mainland carry?"


def within(citation: dict[str, Any], passage: dict[str, Any]) -> bool:
    """The citation is a span of the passage (a chunk of the version the answer was drawn from):
    a citation cut from another version of the text at the passage's offsets is not."""
    start, end = citation["start"] - passage["start"], citation["end"] - passage["start"]
    return (citation["document_id"] == passage["document_id"] and 0 <= start
            and citation["end"] <= passage["end"] and passage["text"][start:end] == citation["quote"])


@dataclass
class Ledger:
    """What the writers did, shared with the readers. ``writes[id]`` is odd while a write to
    the document is in flight (a sequence lock): a reader that sees the same even count before
    its request and after checking the document's text saw no write overlap."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    places: dict[str, str] = field(default_factory=dict)  # id -> place, for live documents
    texts: dict[str, list[str]] = field(default_factory=dict)  # id -> every stored text
    latest: dict[str, str] = field(default_factory=dict)  # id -> text, live documents only
    chunks: dict[str, int] = field(default_factory=dict)  # id -> chunk count of the latest
    doomed: set[str] = field(default_factory=set)  # deletion begun (404 from then on is right)
    writes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)  # "GET /healthz 200", "updated"...
    failures: list[str] = field(default_factory=list)
    deferred: list[dict[str, Any]] = field(default_factory=list)  # citations checked at the end
    strict_checks: int = 0

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def live(self) -> list[tuple[str, str]]:
        with self.lock:
            return sorted(self.places.items())

    def counts(self) -> dict[str, int]:
        with self.lock:
            return dict(self.writes)


def record(ledger: Ledger, what: str, response: httpx.Response) -> bool:
    """Count the response; a 5xx or a body that is not JSON where JSON is due is a failure."""
    with ledger.lock:
        ledger.statuses[f"{what} {response.status_code}"] += 1
    if response.status_code >= 500:
        ledger.fail(f"{what}: {response.status_code} {response.text[:500]}")
        return False
    return True


def expect(ledger: Ledger, what: str, response: httpx.Response, *allowed: int) -> bool:
    if not record(ledger, what, response):
        return False
    if response.status_code not in allowed:
        ledger.fail(f"{what}: {response.status_code} {response.text[:500]}")
        return False
    return True


class Writer:
    """Creates documents (by id, or by url with a derived id), updates them with changed text,
    re-sends one unchanged, deletes a few; each write is read back for its stored text."""

    def __init__(self, owner: int, url: str, ledger: Ledger, deadline: float) -> None:
        self.owner = owner
        self.client = httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT)
        self.ledger = ledger
        self.deadline = deadline
        self.random = random.Random(owner)
        self.mine: dict[str, tuple[int, dict[str, str], int]] = {}  # id -> (n, key, version)
        self.created = 0

    def run(self) -> None:
        with self.client:
            while time.monotonic() < self.deadline:
                try:
                    self.step()
                except Exception as error:  # noqa: BLE001 - every failure is reported
                    self.ledger.fail(f"writer {self.owner}: {error!r}")
                    return

    def step(self) -> None:
        roll = self.random.random()
        if len(self.mine) < 2 or roll < 0.4:
            self.create()
        elif roll < 0.75:
            self.update(self.random.choice(sorted(self.mine)), changed=True)
        elif roll < 0.87:
            self.update(self.random.choice(sorted(self.mine)), changed=False)
        else:
            self.delete(self.random.choice(sorted(self.mine)))

    def create(self) -> None:
        n = self.created
        self.created += 1
        key = ({"id": f"load-{self.owner}-{n}"} if n % 2 == 0
               else {"url": f"https://news.example/{self.owner}/{n}"})
        self.write(None, n, key, 0, "created")

    def update(self, doc_id: str, changed: bool) -> None:
        n, key, version = self.mine[doc_id]
        self.write(doc_id, n, key, version + 1 if changed else version,
                   "updated" if changed else "unchanged")

    def write(self, doc_id: str | None, n: int, key: dict[str, str], version: int,
              status: str) -> None:
        place = place_name(self.owner, n)
        text = article_text(place, version)
        if doc_id is not None:
            self.begin(doc_id)
        reply = self.client.post("/v1/documents", json={"text": text, "source": "Load", **key})
        if not expect(self.ledger, "POST /v1/documents", reply, 200):
            if doc_id is not None:
                self.end(doc_id)
            return
        with self.ledger.lock:
            self.ledger.statuses[reply.json()["status"]] += 1
        if reply.json()["status"] != status:
            self.ledger.fail(f"{key}: {reply.json()['status']}, expected {status}")
        doc_id = doc_id or reply.json()["id"]
        stored = self.client.get(f"/v1/documents/{doc_id}")
        if expect(self.ledger, "GET /v1/documents/{id}", stored, 200):
            with self.ledger.lock:
                self.ledger.texts.setdefault(doc_id, []).append(stored.json()["text"])
                self.ledger.latest[doc_id] = stored.json()["text"]
                self.ledger.chunks[doc_id] = reply.json()["chunks"]
                self.ledger.places[doc_id] = place
        self.mine[doc_id] = (n, key, version)
        if status != "created":
            self.end(doc_id)

    def delete(self, doc_id: str) -> None:
        self.begin(doc_id)
        with self.ledger.lock:
            self.ledger.doomed.add(doc_id)
            self.ledger.places.pop(doc_id, None)
            self.ledger.latest.pop(doc_id, None)
            self.ledger.chunks.pop(doc_id, None)
        del self.mine[doc_id]
        reply = self.client.delete(f"/v1/documents/{doc_id}")
        if expect(self.ledger, "DELETE /v1/documents/{id}", reply, 200):
            gone = self.client.get(f"/v1/documents/{doc_id}")
            expect(self.ledger, "GET /v1/documents/{id} (deleted)", gone, 404)
        self.end(doc_id)

    def begin(self, doc_id: str) -> None:
        with self.ledger.lock:
            self.ledger.writes[doc_id] += 1

    def end(self, doc_id: str) -> None:
        with self.ledger.lock:
            self.ledger.writes[doc_id] += 1


class Reader:
    """Asks (plain or streamed, over every document or one), summarizes, lists, checks health,
    and checks every reply it gets."""

    def __init__(self, number: int, url: str, ledger: Ledger, deadline: float,
                 seed_text: str) -> None:
        self.number = number
        self.client = httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT)
        self.ledger = ledger
        self.deadline = deadline
        self.random = random.Random(100 + number)
        self.seed_text = seed_text

    def run(self) -> None:
        actions: list[tuple[float, Callable[[], None]]] = [
            (0.2, self.ask_seed), (0.25, self.ask_any), (0.15, self.ask_one),
            (0.15, self.summarize_one), (0.05, self.summarize_question),
            (0.15, self.list_documents), (0.05, self.health),
        ]
        with self.client:
            while time.monotonic() < self.deadline:
                action = self.random.choices([a for _, a in actions],
                                             weights=[w for w, _ in actions])[0]
                try:
                    action()
                except Exception as error:  # noqa: BLE001 - every failure is reported
                    self.ledger.fail(f"reader {self.number} {action.__name__}: {error!r}")
                    return

    def pick(self) -> tuple[str, str] | None:
        live = self.ledger.live()
        return self.random.choice(live) if live else None

    def ask(self, body: dict[str, Any], named: str | None = None) -> dict[str, Any] | None:
        """POST /v1/ask, plain or streamed; the answer, or None when it is a right 404."""
        before = self.ledger.counts()
        stream = self.random.random() < 0.4
        what = "POST /v1/ask (stream)" if stream else "POST /v1/ask"
        if stream:
            with self.client.stream("POST", "/v1/ask", json={**body, "stream": True}) as reply:
                reply.read()
        else:
            reply = self.client.post("/v1/ask", json=body)
        if not self.expect_or_gone(what, reply, named):
            return None
        if stream:
            events = parse_sse(reply.text.splitlines())
            if [name for name, _ in events] != ["answer"]:
                self.ledger.fail(f"{what} {body}: events {events!r}"[:800])
                return None
            answer: dict[str, Any] = events[-1][1]
        else:
            answer = reply.json()
        self.check_citations(answer, before, what)
        for citation in answer["citations"]:
            if not any(within(citation, passage) for passage in answer["passages"]):
                self.ledger.fail(f"{what}: {citation} is in none of the answer's passages")
        return answer

    def expect_or_gone(self, what: str, reply: httpx.Response, named: str | None) -> bool:
        """200; or 404 for a request naming a document whose deletion has begun."""
        if not record(self.ledger, what, reply):
            return False
        if reply.status_code == 200:
            return True
        with self.ledger.lock:
            gone = named in self.ledger.doomed
        if not (reply.status_code == 404 and gone):
            about = f" naming {named}" if named else " (naming no document)"
            self.ledger.fail(f"{what}{about}: {reply.status_code} {reply.text[:500]}")
        return False

    def ask_seed(self) -> None:
        answer = self.ask({"question": SEED_QUESTION})
        if answer is not None and ("600" not in answer["answer"] or answer["abstained"]):
            self.ledger.fail(f"the seed question got {answer['answer']!r}")

    def ask_any(self) -> None:
        picked = self.pick()
        if picked:
            self.ask({"question": question_about(picked[1])})

    def ask_one(self) -> None:
        picked = self.pick()
        if not picked:
            return
        answer = self.ask({"question": question_about(picked[1]), "document_ids": [picked[0]]},
                          named=picked[0])
        if answer is not None:
            cited = {c["document_id"] for c in answer["citations"]}
            cited |= {p["document_id"] for p in answer["passages"]}
            if cited - {picked[0]}:
                self.ledger.fail(f"an answer restricted to {picked[0]} drew on {cited}")

    def summarize_one(self) -> None:
        picked = self.pick()
        if not picked:
            return
        before = self.ledger.counts()
        reply = self.client.post("/v1/summarize",
                                 json={"document_id": picked[0], "max_sentences": 2})
        if self.expect_or_gone("POST /v1/summarize", reply, picked[0]):
            summary = reply.json()
            if summary["document_ids"] != [picked[0]] or not summary["sentences"]:
                self.ledger.fail(f"summary of {picked[0]}: {summary}"[:800])
            self.check_citations(summary, before, "POST /v1/summarize")

    def summarize_question(self) -> None:
        picked = self.pick()
        question = question_about(picked[1]) if picked else SEED_QUESTION
        before = self.ledger.counts()
        reply = self.client.post("/v1/summarize", json={"question": question, "max_words": 60})
        if expect(self.ledger, "POST /v1/summarize (question)", reply, 200):
            self.check_citations(reply.json(), before, "POST /v1/summarize (question)")

    def list_documents(self) -> None:
        reply = self.client.get("/v1/documents")
        if expect(self.ledger, "GET /v1/documents", reply, 200):
            ids = [d["id"] for d in reply.json()["documents"]]
            if len(ids) != len(set(ids)) or reply.json()["total"] != len(ids):
                self.ledger.fail(f"a listing holds a document twice: {sorted(ids)}")
            if SEED_ID not in ids:
                self.ledger.fail("a listing lacks the seed")

    def health(self) -> None:
        expect(self.ledger, "GET /healthz", self.client.get("/healthz"), 200)

    def check_citations(self, reply: dict[str, Any], before: dict[str, int], what: str) -> None:
        cited = [*reply.get("citations", []),
                 *(c for s in reply["sentences"] for c in s["citations"])]
        texts: dict[str, str | None] = {}
        for doc_id in {c["document_id"] for c in cited} - {SEED_ID}:
            got = self.client.get(f"/v1/documents/{doc_id}")
            expect(self.ledger, "GET /v1/documents/{id} (cited)", got, 200, 404)
            texts[doc_id] = got.json()["text"] if got.status_code == 200 else None
        after = self.ledger.counts()
        for citation in cited:
            doc_id = citation["document_id"]
            writes = after.get(doc_id, 0)
            if doc_id != SEED_ID and (before.get(doc_id, 0) != writes or writes % 2):
                # Written meanwhile: checked at the end against each text it has had.
                with self.ledger.lock:
                    self.ledger.deferred.append(citation)
                continue
            text = self.seed_text if doc_id == SEED_ID else texts[doc_id]
            if text is None:
                self.ledger.fail(f"{what}: cites {doc_id}, deleted before the request")
                continue
            with self.ledger.lock:
                self.ledger.strict_checks += 1
            if text[citation["start"]:citation["end"]] != citation["quote"]:
                self.ledger.fail(f"{what}: inexact citation {citation}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServeProcess]:
    env = serve_env(FACTDESK_DATA_DIR=str(tmp_path / "data"))
    live = ServeProcess(tmp_path / "serve.log", env).wait_ready()
    yield live
    live.stop()


def test_writers_and_readers_at_once(server: ServeProcess, tmp_path: Path) -> None:
    seed = server.client.get(f"/v1/documents/{SEED_ID}")
    assert seed.status_code == 200, server.log_tail()
    ledger = Ledger()
    deadline = time.monotonic() + LOAD_SECONDS
    workers: list[Writer | Reader] = [
        *(Writer(w, server.url, ledger, deadline) for w in range(WRITERS)),
        *(Reader(r, server.url, ledger, deadline, seed.json()["text"]) for r in range(READERS)),
    ]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=LOAD_SECONDS + 2 * REQUEST_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a request hung"

    assert ledger.failures == [], "\n".join(ledger.failures[:20]) + "\n" + server.log_tail()
    # The load was real: writes of every kind, and answers checked while documents changed.
    done = ledger.statuses
    assert done["created"] >= 6 and done["updated"] >= 3 and done["unchanged"] >= 1, done
    assert done["DELETE /v1/documents/{id} 200"] >= 1, done
    assert done["POST /v1/ask 200"] + done["POST /v1/ask (stream) 200"] >= 20, done
    assert done["POST /v1/summarize 200"] >= 3 and ledger.strict_checks >= 20, done

    # Every citation made while its document changed is exact in one of the texts it had.
    for citation in ledger.deferred:
        texts = ledger.texts.get(citation["document_id"], [])
        assert any(t[citation["start"]:citation["end"]] == citation["quote"] for t in texts), (
            citation)

    # The documents are exactly the writers' (created minus deleted), once each, as last written.
    expected = {SEED_ID, *ledger.latest}
    listing = server.client.get("/v1/documents").json()
    listed = [d["id"] for d in listing["documents"]]
    assert sorted(listed) == sorted(expected) and listing["total"] == len(expected)
    chunks = {d["id"]: d["chunks"] for d in listing["documents"]}
    for doc_id, text in ledger.latest.items():
        stored = server.client.get(f"/v1/documents/{doc_id}").json()
        assert stored["text"] == text and chunks[doc_id] == ledger.chunks[doc_id], doc_id
    for doc_id in ledger.doomed - expected:
        assert server.client.get(f"/v1/documents/{doc_id}").status_code == 404
    health = server.client.get("/healthz").json()
    assert health["documents"] == len(expected)
    assert health["chunks"] == sum(chunks.values())
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "unexpected error" not in log, log[-4000:]
    server.stop()

    # Reopened, the store holds each document's chunks of its latest version only.
    desk = Factdesk(Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS_DIR, llm_model=None))
    assert desk.doctor().problems == 0
    for doc_id, count in ledger.chunks.items():
        assert len(chunks_in_chroma(desk, doc_id)) == count, doc_id
