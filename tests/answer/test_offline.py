"""The offline answerer with the shipped reader: the answer is a span of a passage, cited with
the whole sentence that holds it at exact article offsets; a question the passages do not
touch is abstained on; without the answerability model, a lower-ranked passage costs
``rank_weight`` per place."""

from __future__ import annotations

import pytest

from service.answer import answer_offline
from service.domain import Chunk, Passage
from service.reader import Reader, shared_reader

ARTICLE = (
    "Harbour works delayed\n\n"
    "The harbour authority said on Tuesday that the new quay would open in June. "
    "Dredging the basin cost 12 million euros, twice the first estimate.\n\n"
    "The quay was designed by the engineer Ana Müller, whose firm also built the ferry "
    "terminal. “It will take ships of 300 metres,” she said.\n"
)


def passages_of(text: str, document_id: str = "harbour") -> list[Passage]:
    """One passage per paragraph, best-ranked first."""
    found = []
    start = 0
    for index, paragraph in enumerate(text.split("\n\n")):
        at = text.index(paragraph, start)
        start = at + len(paragraph)
        chunk = Chunk(f"{document_id}:{index}", document_id, index, at, start, paragraph)
        found.append(Passage(chunk, "Harbour works delayed", 1.0 - index / 10))
    return found


@pytest.fixture(scope="module")
def reader() -> Reader:
    return shared_reader(2)


def test_the_answer_is_cited_with_its_whole_sentence(reader: Reader) -> None:
    passages = passages_of(ARTICLE)
    answer = answer_offline("Who designed the quay?", passages, {"harbour": ARTICLE}, reader)
    assert not answer.abstained
    assert "Müller" in answer.answer
    [citation] = answer.citations
    assert ARTICLE[citation.start:citation.end] == citation.quote
    assert citation.quote.startswith("The quay was designed by")
    assert citation.quote.endswith("ferry terminal.")
    assert answer.answer in citation.quote
    assert 0.0 <= answer.confidence <= 1.0


def test_a_question_the_passages_do_not_touch_is_abstained_on(reader: Reader) -> None:
    answer = answer_offline("What is the boiling point of liquid nitrogen?",
                            passages_of(ARTICLE), {"harbour": ARTICLE}, reader)
    assert answer.abstained
    assert answer.citations == []
    assert answer.passages  # the passages it looked at are still shown


def test_rank_weight_moves_the_choice_to_the_better_ranked_passage(reader: Reader) -> None:
    # Two articles state a cost; the second-ranked one is the reader's first choice alone.
    first = "The city said the new bridge cost about 9 million euros in all."
    second = "Dredging the basin cost 12 million euros, the harbour authority said."
    texts = {"a": first, "b": second}
    passages = [Passage(Chunk("a:0", "a", 0, 0, len(first), first), "A", 0.9),
                Passage(Chunk("b:0", "b", 0, 0, len(second), second), "B", 0.8)]
    question = "How much did the dredging cost?"
    alone = answer_offline(question, passages, texts, reader, min_margin=-100.0, model=False)
    assert alone.citations[0].document_id == "b"
    pulled = answer_offline(question, passages, texts, reader, min_margin=-100.0,
                            rank_weight=100.0, model=False)
    assert pulled.citations[0].document_id == "a"
