"""LLM answers over a story that changed: dated passages go to a real llama.cpp server
(SmolLM2-135M), and the answer says what date its evidence is from and which older figures
the same passages give. The model is tiny: these tests check what factdesk adds, whatever it
writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from service.answer.llm import format_passages, prompt_passages
from service.domain import AnswerMode
from tests.llm.conftest import llm_settings
from tests.llm.servers import LlamaServer

if TYPE_CHECKING:
    from service.desk import Factdesk

pytestmark = pytest.mark.integration

STORM = [
    ("storm-14", "2026-10-14", "Storm Ingrid forced authorities to evacuate 1,200 homes along "
     "the Marrow coast on Tuesday. The regional governor said emergency shelters had opened."),
    ("storm-17", "2026-10-17", "The number of homes evacuated because of Storm Ingrid has "
     "risen to 3,450, officials said on Friday, after the river Lenne burst its banks."),
]
QUESTION = "How many homes have been evacuated because of Storm Ingrid?"


@pytest.fixture(scope="module")
def storm_desk(tmp_path_factory: pytest.TempPathFactory, llama_server: LlamaServer
               ) -> Factdesk:
    from service.desk import Factdesk

    desk = Factdesk(llm_settings(tmp_path_factory.mktemp("llm-dates") / "data",
                                 llama_server.url))
    for doc_id, published, text in STORM:
        desk.ingest(text, "text", document_id=doc_id, published=published,
                    source="Marrow Daily")
    return desk


def test_the_prompt_shows_each_passage_with_its_date_and_source(storm_desk: Factdesk) -> None:
    passages = storm_desk.ask(QUESTION, mode=AnswerMode.OFFLINE).passages
    prompt = format_passages(prompt_passages(passages, storm_desk.llm.settings))
    assert "2026-10-14" in prompt and "2026-10-17" in prompt and "Marrow Daily" in prompt


def test_an_llm_answer_is_dated_and_lists_the_older_figures(storm_desk: Factdesk) -> None:
    answer = storm_desk.ask(QUESTION, mode=AnswerMode.LLM)
    assert answer.mode == "llm"
    if answer.abstained or not answer.citations:
        assert answer.supersedes == []
        return
    assert answer.as_of == max(c.dated for c in answer.citations if c.dated)
    texts = {doc_id: storm_desk.get(doc_id).text for doc_id, _, _ in STORM}
    cited = {(c.document_id, c.start, c.end) for c in answer.citations}
    for old in answer.supersedes:
        assert old.dated is not None and old.dated < answer.as_of
        assert texts[old.document_id][old.start:old.end] == old.quote
        assert (old.document_id, old.start, old.end) not in cited
    if answer.as_of == "2026-10-17":  # it cites the newest report: the older figure is listed
        assert any("1,200" in old.quote for old in answer.supersedes), answer.supersedes
