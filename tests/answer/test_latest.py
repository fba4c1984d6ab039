"""The latest figure: dated statements, the newest value answering, the older ones cited as
superseded, and ``as_of`` giving the value known then (the shipped reader, offline)."""

from __future__ import annotations

import pytest

from service.dating import statement_date
from tests.conftest import make_settings

STORM_14 = ("Storm Ingrid forced authorities to evacuate 1,200 homes along the Marrow coast on "
            "Tuesday, as winds of up to 140 kilometres per hour battered the region. The "
            "regional governor said emergency shelters had been opened in three towns.")
STORM_17 = ("The number of homes evacuated because of Storm Ingrid has risen to 3,450, "
            "officials said on Friday, after the river Lenne burst its banks. The governor said "
            "the army had been called in to help.")


def span_of(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


@pytest.mark.parametrize(("text", "words", "published", "stated"), [
    ("In January, the agency estimated that 300 soldiers had died.", "300", "2025-04-30",
     "2025-01-01"),
    ("The outbreak reached 410 cases, up from 120 cases in March.", "120", "2025-06-02",
     "2025-03-01"),
    ("The outbreak reached 410 cases, up from 120 cases in March.", "410", "2025-06-02", None),
    ("The budget was 5 million in 2024.", "5 million", "2025-02-01", "2024-01-01"),
    ("The budget is 6 million in 2025.", "6 million", "2025-02-01", None),
    ("Officials said on April 30 that 600 had died.", "600", "2025-04-30", None),
    # A month after the article's own is of the year before.
    ("In November, 40 ships were counted.", "40", "2025-03-10", "2024-11-01"),
    ("Officials may revise the 12 figures.", "12", "2025-06-10", None),
])
def test_a_statement_is_dated_by_its_clause(text: str, words: str, published: str,
                                            stated: str | None) -> None:
    assert statement_date(text, *span_of(text, words), published) == stated


@pytest.fixture(scope="module")
def storm_desk(tmp_path_factory: pytest.TempPathFactory):
    from service.desk import Factdesk

    desk = Factdesk(make_settings(tmp_path_factory.mktemp("latest") / "data"))
    desk.ingest(STORM_14, "text", document_id="storm-14", title="Storm Ingrid evacuations",
                published="2026-10-14", source="Coastal Herald")
    desk.ingest(STORM_17, "text", document_id="storm-17", title="Evacuations rise",
                published="2026-10-17", source="Marrow Daily")
    return desk


def test_the_newest_figure_answers_and_the_older_one_is_superseded(storm_desk) -> None:
    answer = storm_desk.ask("How many homes have been evacuated because of Storm Ingrid?",
                            mode="offline")
    assert not answer.abstained
    assert "3,450" in answer.answer
    assert answer.citations[0].document_id == "storm-17"
    assert answer.as_of == "2026-10-17"
    superseded = {c.document_id: c for c in answer.supersedes}
    assert "storm-14" in superseded
    assert "1,200" in superseded["storm-14"].quote
    assert superseded["storm-14"].published == "2026-10-14"


def test_as_of_answers_the_figure_known_then(storm_desk) -> None:
    from service.scope import Scope

    answer = storm_desk.ask("How many homes have been evacuated because of Storm Ingrid?",
                            mode="offline", scope=Scope.of(as_of="2026-10-15"))
    assert "1,200" in answer.answer
    assert answer.as_of == "2026-10-14"
    assert {p.chunk.document_id for p in answer.passages} == {"storm-14"}
    assert answer.supersedes == []


def test_a_question_naming_its_time_is_not_moved_to_the_newest(storm_desk) -> None:
    answer = storm_desk.ask("How many homes were evacuated on Tuesday, October 14?",
                            mode="offline")
    assert answer.supersedes == []
