"""When the LLM fails: `auto` answers offline and says why; `llm` is a clear 502/503/504.

A stopped server and a timeout are produced with a real llama.cpp server. HTTP 429/500 and
malformed or empty output come from a small fake server (tests/llm/servers.py), because a real
server cannot be made to produce them on demand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from service.llm.client import LLMClient
from tests.api.sse import parse_sse
from tests.llm.conftest import llm_settings
from tests.llm.servers import FakeLLMServer, LlamaServer, error_reply, sse_reply
from tests.samples import SEED_QUESTION

if TYPE_CHECKING:
    from service.desk import Factdesk

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Factdesk:
    from service.desk import Factdesk

    # Pointed at nothing yet; each test gives it an LLM with point_llm().
    desk = Factdesk(llm_settings(tmp_path_factory.mktemp("failures") / "data",
                                 "http://127.0.0.1:9/v1"))
    desk.ingest_seeds()
    return desk


@pytest.fixture(scope="module")
def client(desk: Factdesk) -> Iterator[TestClient]:
    from service.api.app import create_app

    with TestClient(create_app(desk)) as test_client:
        yield test_client


def point_llm(desk: Factdesk, url: str, **overrides: object) -> None:
    desk.llm = LLMClient(llm_settings(desk.settings.data_dir, url, **overrides))


def post(client: TestClient, mode: str, stream: bool = False) -> Any:
    return client.post("/v1/ask", json={"question": SEED_QUESTION, "mode": mode,
                                        "stream": stream})


def assert_fallback(client: TestClient, reason: str) -> None:
    """auto: the offline answer, saying why; also as the final event of a stream."""
    response = post(client, "auto")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["mode"], answer["fallback_reason"], answer["prompt"]) == ("offline", reason,
                                                                              None)
    assert "600" in answer["answer"] and answer["citations"]  # the offline answerer's work
    with client.stream("POST", "/v1/ask", json={"question": SEED_QUESTION, "mode": "auto",
                                                "stream": True}) as streamed:
        assert streamed.status_code == 200
        events = parse_sse(streamed.iter_lines())
    assert events[-1][0] == "answer"
    assert events[-1][1]["fallback_reason"] == reason
    assert events[-1][1]["answer"] == answer["answer"]


def assert_llm_error(client: TestClient, status: int, code: str) -> None:
    """llm: a JSON error, before the stream starts or as the stream's last event."""
    response = post(client, "llm")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    with client.stream("POST", "/v1/ask", json={"question": SEED_QUESTION, "mode": "llm",
                                                "stream": True}) as streamed:
        if streamed.status_code == status:
            streamed.read()
            assert streamed.json()["error"]["code"] == code
            return
        assert streamed.status_code == 200
        events = parse_sse(streamed.iter_lines())
    assert events[-1] == ("error", {"error": {"code": code, "message": events[-1][1]["error"][
        "message"]}})


def test_server_stopped_mid_test(desk: Factdesk, client: TestClient, llama_model: Any) -> None:
    server = LlamaServer(llama_model)  # a second instance of our own, to kill
    try:
        point_llm(desk, server.url)
        working = post(client, "llm")
        assert working.status_code == 200, working.text
        assert working.json()["fallback_reason"] in (None, "no_supported_sentence")
    finally:
        server.stop()
    assert_fallback(client, "llm_unavailable")
    assert_llm_error(client, 503, "llm_unavailable")


def test_timeout(desk: Factdesk, client: TestClient, llama_server: LlamaServer) -> None:
    # 1 ms: the real server cannot answer that fast, even from its prompt cache (at 50 ms a
    # repeated prompt sometimes made it: llama.cpp keeps the last prompt's state).
    point_llm(desk, llama_server.url, llm_timeout=0.001)
    assert_fallback(client, "llm_timeout")
    assert_llm_error(client, 504, "llm_timeout")


def test_http_500_after_retries(desk: Factdesk, client: TestClient,
                                fake_llm: FakeLLMServer) -> None:
    point_llm(desk, fake_llm.url, llm_max_retries=1)
    fake_llm.answer_with(error_reply(500))
    assert_fallback(client, "llm_error")
    assert fake_llm.hits == 2 * 2  # two requests (plain and streamed), each tried twice
    assert_llm_error(client, 502, "llm_error")


def test_http_429_after_retries(desk: Factdesk, client: TestClient,
                                fake_llm: FakeLLMServer) -> None:
    point_llm(desk, fake_llm.url, llm_max_retries=1)
    fake_llm.answer_with(error_reply(429))
    assert_fallback(client, "llm_unavailable")
    assert fake_llm.hits == 4
    assert_llm_error(client, 503, "llm_unavailable")


@pytest.mark.parametrize(("reply", "reason", "status"), [
    (sse_reply("600 soldiers", " died [1].", garble=True), "llm_error", 502),
    ((200, {"content-type": "text/html"}, b"<html>gateway says hi</html>"), "llm_error", 502),
    (sse_reply(), "llm_empty", 502),
    (sse_reply("", "  "), "llm_empty", 502),
])
def test_garbled_or_empty_output(desk: Factdesk, client: TestClient, fake_llm: FakeLLMServer,
                                 reply: Any, reason: str, status: int) -> None:
    point_llm(desk, fake_llm.url)
    fake_llm.answer_with(reply)
    assert_fallback(client, reason)
    assert_llm_error(client, status, reason)


def test_unsupported_output_falls_back_in_both_modes(desk: Factdesk, client: TestClient,
                                                     fake_llm: FakeLLMServer) -> None:
    point_llm(desk, fake_llm.url)
    fake_llm.answer_with(sse_reply("Bananas are blue [1]. ", "The moon is cheese [2]."))
    assert_fallback(client, "no_supported_sentence")
    answer = post(client, "llm").json()  # the LLM worked; its answer just is not supported
    assert (answer["mode"], answer["fallback_reason"]) == ("offline", "no_supported_sentence")


def test_flag_and_drop_unsupported_sentences(desk: Factdesk, client: TestClient,
                                             fake_llm: FakeLLMServer) -> None:
    # No markers: every passage is searched (which number the right one has depends on retrieval).
    supported = ("North Korea has suffered 4,700 casualties, including 600 deaths, in the "
                 "conflict in Ukraine.")
    fake_llm.answer_with(sse_reply(supported, " Bananas are blue."))
    point_llm(desk, fake_llm.url, llm_unsupported="flag")
    flagged = post(client, "llm").json()
    assert flagged["mode"] == "llm"
    assert [s["supported"] for s in flagged["sentences"]] == [True, False]
    assert flagged["sentences"][1] == {"text": "Bananas are blue.", "citations": [],
                                       "supported": False, "date": None}
    assert "600 deaths" in flagged["citations"][0]["quote"]

    point_llm(desk, fake_llm.url, llm_unsupported="drop")
    dropped = post(client, "llm").json()
    assert [s["supported"] for s in dropped["sentences"]] == [True]
    assert "Bananas" not in dropped["answer"]
    assert dropped["citations"] == flagged["citations"]
