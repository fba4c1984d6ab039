"""A client that leaves a streamed answer stops the LLM's work: checked over real HTTP, against
a real ``factdesk serve`` process.

The LLM here is the fake server (tests/llm/servers.py) in its endless mode, a runaway model
that streams words until its client hangs up. A real llama.cpp server ends every answer on its
own within the token limit, so it cannot show whether factdesk would have left the generation
running; the runaway can: it only stops when factdesk closes the upstream request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.llm.servers import FakeLLMServer
from tests.reliability.serve import ServeProcess, serve_env
from tests.samples import SEED_QUESTION

LEAVE_WAIT_S = 30.0  # generous on a loaded machine; a leak would stream for 10 minutes
# Far longer than the wait: the answer's own time limit must not be what ends the stream.
LLM_TIMEOUT_S = 300


@pytest.fixture
def served(tmp_path: Path, fake_llm: FakeLLMServer) -> Iterator[ServeProcess]:
    env = serve_env(FACTDESK_DATA_DIR=str(tmp_path / "data"), OPENAI_BASE_URL=fake_llm.url,
                    OPENAI_API_KEY="test", FACTDESK_LLM_MODEL="runaway",
                    FACTDESK_LLM_MAX_RETRIES="0", FACTDESK_LLM_TIMEOUT=str(LLM_TIMEOUT_S))
    server = ServeProcess(tmp_path / "serve.log", env).wait_ready()
    yield server
    server.stop()


def first_delta(lines: Iterator[str]) -> str:
    for line in lines:
        if line.startswith("event:"):
            assert line.split(":", 1)[1].strip() == "delta", line
            return line
    raise AssertionError("the stream ended before any delta")


def test_a_client_leaving_mid_stream_closes_the_llm_request(
        served: ServeProcess, fake_llm: FakeLLMServer) -> None:
    fake_llm.endless()
    body = {"question": SEED_QUESTION, "mode": "llm",
            "stream": True}
    with httpx.stream("POST", f"{served.url}/v1/ask", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        first_delta(lines)
        # Still streaming while the client reads: the runaway only stops when told.
        words = fake_llm.words_sent
        for _ in range(20):
            next(lines)
        assert fake_llm.words_sent > words
        assert not fake_llm.client_left.is_set()
    # The client has closed its connection mid-answer.
    assert fake_llm.client_left.wait(LEAVE_WAIT_S), (
        f"the LLM request was still streaming {LEAVE_WAIT_S:.0f} s after the client left "
        f"({fake_llm.words_sent} words sent)\n" + served.log_tail())
    assert fake_llm.hits == 1
    # And the server goes on answering.
    fake_llm.answer_with((500, {}, b""))
    reply = served.client.post("/v1/ask", json={"question": SEED_QUESTION, "mode": "offline"})
    assert reply.status_code == 200
    assert "600" in reply.json()["answer"]
