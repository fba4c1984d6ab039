"""LLM summaries from a real llama.cpp server (SmolLM2-135M): the contract, map-reduce, and
the fall back to the extractive summary. As for answers, the model's wisdom is not tested:
what must hold whatever it writes is that every citation is exact and every sentence is
either supported and cited, or flagged with no citation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from service.errors import NoSupportedSentence
from service.summarize.llm import open_summary_stream, verify_summary
from service.verify.citations import verify_citation
from tests.api.sse import parse_sse
from tests.llm.conftest import llm_settings
from tests.llm.servers import LlamaServer
from tests.samples import TEXT_ARTICLE

if TYPE_CHECKING:
    from service.desk import Factdesk

pytestmark = pytest.mark.integration

APPLES = "apple-harvest"


@pytest.fixture(scope="module")
def llm_desk(tmp_path_factory: pytest.TempPathFactory, llama_server: LlamaServer) -> Factdesk:
    from service.desk import Factdesk

    desk = Factdesk(llm_settings(tmp_path_factory.mktemp("llm-summary") / "data",
                                 llama_server.url))
    desk.ingest(TEXT_ARTICLE, "text", document_id=APPLES)
    desk.ingest_seeds()
    return desk


@pytest.fixture(scope="module")
def llm_client(llm_desk: Factdesk) -> Iterator[TestClient]:
    from service.api.app import create_app

    with TestClient(create_app(llm_desk)) as client:
        yield client


def assert_contract(desk: Factdesk, summary: dict[str, Any]) -> None:
    assert summary["sentences"]
    if summary["mode"] == "llm":
        assert summary["fallback_reason"] is None
        assert summary["prompt"]["name"] in ("summarize", "summarize_reduce")
    else:  # the model's text had no supported sentence: the extractive summary instead
        assert summary["fallback_reason"] == "no_supported_sentence"
    for sentence in summary["sentences"]:
        assert sentence["supported"] == bool(sentence["citations"])
        for c in sentence["citations"]:
            text = desk.get(c["document_id"]).text
            assert text[c["start"]:c["end"]] == c["quote"]
    assert any(s["supported"] for s in summary["sentences"])


def test_summary_of_one_article(llm_desk: Factdesk, llm_client: TestClient) -> None:
    response = llm_client.post("/v1/summarize", json={"document_id": APPLES, "mode": "llm",
                                                      "max_sentences": 2})
    assert response.status_code == 200, response.text
    summary = response.json()
    assert_contract(llm_desk, summary)
    assert len(summary["sentences"]) <= 2


def test_streamed_summary(llm_desk: Factdesk, llm_client: TestClient) -> None:
    body = {"document_id": APPLES, "mode": "llm", "max_sentences": 2}
    with llm_client.stream("POST", "/v1/summarize", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        events = parse_sse(response.iter_lines())
    names = [name for name, _ in events]
    assert names[-1] == "summary" and "delta" in names
    assert names.index("delta") < names.index("summary")
    final = events[-1][1]
    assert_contract(llm_desk, final)
    cited = [e["citation"] for name, e in events if name == "citation"]
    assert cited == [c for s in final["sentences"] for c in s["citations"]]


def test_long_input_is_mapped_then_reduced(tmp_path: Path, llama_server: LlamaServer) -> None:
    """An article of several chunks, two chunks per prompt, takes the map-reduce path: partial
    summaries from the real server, then one streamed combining call whose sentences are
    checked against every chunk of the article. (Small chunks keep the prompts short.)"""
    from service.desk import Factdesk

    settings = llm_settings(tmp_path / "data", llama_server.url, chunk_tokens=40,
                            chunk_overlap_tokens=0, llm_max_passages=2)
    desk = Factdesk(settings)
    desk.ingest(TEXT_ARTICLE, "text", document_id=APPLES)
    sources, passages, _ = desk.summarizer._summary_sources([APPLES], None)
    assert len(passages) > 2
    draft = open_summary_stream(desk.llm, settings, passages, [sources[0].article.title], None,
                                "2 sentences")
    assert draft.prompt.name == "summarize_reduce" and draft.numbered is None
    with draft.stream:
        text = "".join(draft.stream)
    assert text.strip()
    texts = {APPLES: sources[0].article.text}
    try:
        sentences = verify_summary(text, draft.numbered, passages, texts, desk.embedder,
                                   settings, 2, None)
    except NoSupportedSentence:
        return  # the desk answers with the extractive summary then (test_summary_of_one_article)
    assert 1 <= len(sentences) <= 2
    for sentence in sentences:
        assert sentence.supported == bool(sentence.citations)
        assert all(verify_citation(c, texts[APPLES]) for c in sentence.citations)


def test_unreachable_llm(llm_desk: Factdesk, llm_client: TestClient) -> None:
    from service.llm.client import LLMClient

    working = llm_desk.llm
    llm_desk.llm = LLMClient(llm_settings(llm_desk.settings.data_dir, "http://127.0.0.1:9/v1"))
    try:
        auto = llm_client.post("/v1/summarize", json={"document_id": APPLES, "mode": "auto"})
        assert auto.status_code == 200
        assert auto.json()["mode"] == "offline"
        assert auto.json()["fallback_reason"] == "llm_unavailable"
        strict = llm_client.post("/v1/summarize", json={"document_id": APPLES, "mode": "llm"})
        assert strict.status_code == 503
        assert strict.json()["error"]["code"] == "llm_unavailable"
    finally:
        llm_desk.llm = working
