"""The extractive summarizer on the real embedding model: what it picks and what it never does."""

from __future__ import annotations

import numpy as np
import pytest

from service.embed.select import get_embedder
from service.summarize.extractive import SourceSentence, is_furniture, select_sentences


@pytest.fixture(scope="module")
def embed():
    embedder = get_embedder()
    return lambda texts: np.asarray(embedder.embed(list(texts)))


def article(doc_id: str, *texts: str) -> list[SourceSentence]:
    sentences, offset = [], 0
    for position, text in enumerate(texts):
        sentences.append(SourceSentence(doc_id, position, offset, offset + len(text), text))
        offset += len(text) + 1
    return sentences


HARBOUR = article(
    "harbour",
    "Harbour Works Begin",  # a headline: no full stop
    "Work began on Monday on a new sea wall for the harbour at Port Ellen, the council said.",
    "The wall will cost 12 million pounds and take two years to build, officials said.",
    "Photo: the harbour at dawn",
    "Fishing boats will use a temporary berth at the north pier while the work goes on.",
    "The council said the new wall would protect the harbour from winter storms.",
    "Residents said they welcomed the work but worried about noise from the site.",
)


@pytest.mark.parametrize("text, furniture", [
    ("Harbour Works Begin", True),
    ("Photo: the harbour at dawn.", True),
    ("By Jane Smith.", True),
    ("Updated: April 30, 2025 at 10:02.", True),
    ("Work began on Monday on a new sea wall for the harbour.", False),
    ("It rained.", True),  # a fragment: too short to summarise anything
])
def test_furniture(text: str, furniture: bool) -> None:
    assert is_furniture(text) is furniture


def test_picks_real_sentences_in_article_order_within_the_limit(embed) -> None:
    picked = select_sentences([HARBOUR], [embed(s.text for s in HARBOUR)], max_sentences=3)
    positions = [p.sentence.position for p in picked]
    assert len(picked) == 3
    assert positions == sorted(positions)
    assert 1 in positions  # the lead
    assert not {0, 3} & set(positions)  # never the headline or the caption


def test_word_budget(embed) -> None:
    picked = select_sentences([HARBOUR], [embed(s.text for s in HARBOUR)],
                              max_sentences=None, max_words=35)
    assert picked
    assert sum(len(p.sentence.text.split()) for p in picked) <= 35


def test_a_repeated_sentence_is_not_picked_twice(embed) -> None:
    lead = HARBOUR[1].text
    repeated = [*HARBOUR, SourceSentence("harbour", 7, 900, 900 + len(lead), lead)]
    picked = select_sentences([repeated], [embed(s.text for s in repeated)], max_sentences=4)
    assert [p.sentence.text for p in picked].count(lead) == 1


def test_focus_picks_the_sentences_about_the_question(embed) -> None:
    question = embed(["Where will the fishing boats go during the works?"])[0]
    picked = select_sentences([HARBOUR], [embed(s.text for s in HARBOUR)], max_sentences=1,
                              focus=question)
    assert picked[0].sentence.position == 4


def test_several_articles_each_main_point_once_citing_both(embed) -> None:
    other = article(
        "rail",
        "Work began on Monday on a new sea wall for the harbour at Port Ellen, the council said.",
        "The island's railway will close for a week in June for track repairs, the operator said.",
        "Buses will replace trains between the port and the town during the closure.",
    )
    picked = select_sentences([HARBOUR, other], [embed(s.text for s in HARBOUR),
                                                 embed(s.text for s in other)], max_sentences=4)
    docs = [p.sentence.document_id for p in picked]
    assert "harbour" in docs and "rail" in docs
    assert docs == sorted(docs, key=["harbour", "rail"].index)  # articles in the order given
    texts = [p.sentence.text for p in picked]
    assert texts.count(HARBOUR[1].text) == 1  # the fact both state is said once...
    shared = next(p for p in picked if p.sentence.text == HARBOUR[1].text)
    assert shared.sentence.document_id == "harbour"
    assert [(e.document_id, e.position) for e in shared.echoes] == [("rail", 0)]  # ...cites both
    assert any("railway" in t for t in texts)  # the second article's own main point
