"""POST /v1/ask modes and streaming without an LLM: the offline contract, and the errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.sse import parse_sse
from tests.samples import SEED_QUESTION

pytestmark = pytest.mark.integration

NEW_FIELDS = {"sentences", "mode", "fallback_reason", "prompt"}


def ask(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/ask", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", ["offline", "auto"])
def test_offline_answer_is_one_sentence_with_its_citations(client: TestClient, mode: str) -> None:
    answer = ask(client, question=SEED_QUESTION, mode=mode)
    assert NEW_FIELDS <= set(answer)
    assert answer["mode"] == "offline"
    assert answer["fallback_reason"] is None  # no LLM configured: auto is offline, not a fallback
    assert answer["prompt"] is None
    assert answer["sentences"] == [
        {"text": answer["answer"], "citations": answer["citations"], "supported": True,
         "date": None}
    ]


def test_streaming_offline_sends_just_the_final_answer(client: TestClient) -> None:
    plain = ask(client, question=SEED_QUESTION, mode="offline")
    with client.stream("POST", "/v1/ask", json={"question": SEED_QUESTION, "mode": "offline",
                                                "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.iter_lines())
    assert [name for name, _ in events] == ["answer"]
    assert events[-1][1] == plain


def test_llm_mode_without_an_llm_names_the_missing_settings(client: TestClient) -> None:
    for stream in (False, True):
        response = client.post("/v1/ask", json={"question": SEED_QUESTION, "mode": "llm",
                                                "stream": stream})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "llm_not_configured"
        assert "FACTDESK_LLM_MODEL" in error["message"]
        assert "OPENAI_BASE_URL" in error["message"]


def test_bad_mode_and_bad_input_in_a_stream_are_json_errors(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": SEED_QUESTION, "mode": "gpt"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    response = client.post("/v1/ask", json={"question": " ", "stream": True})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
