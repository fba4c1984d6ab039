"""Behaviour of the shipped reader on articles written for these tests, one group per failure
class of the eval report (``service/evaluation/failures.py``).

A store of seven short news articles (``articles/``) and the seed; every question is asked
offline at the default abstention threshold. A right answer contains the expected value, cites
the article it comes from exactly, and has the shape asked for; an unanswerable question is
abstained on. Cases the shipped model still gets wrong are ``xfail(strict=True)`` with what it
answers: they fail the run as soon as the model gets them right, so the mark comes off then.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.answer.answerability import type_fit
from service.answer.question import AnswerType
from tests.conftest import make_settings
from tests.samples import SEED_ID, SEEDS_DIR

pytestmark = [pytest.mark.behaviour, pytest.mark.integration]

ARTICLES = Path(__file__).parent / "articles"


def weak(case: tuple, reason: str):
    return pytest.param(*case, marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory):
    from service.desk import Factdesk

    settings = make_settings(tmp_path_factory.mktemp("behaviour") / "data")
    settings = settings.model_copy(update={"seeds_dir": ARTICLES})
    made = Factdesk(settings)
    made.ingest_seeds()
    made.ingest_path(SEEDS_DIR / f"{SEED_ID}.txt")
    return made


def ask(desk, question: str):
    return desk.ask(question, mode="offline")


def assert_right(desk, question: str, expected: str, article: str,
                 shape: AnswerType) -> None:
    answer = ask(desk, question)
    assert not answer.abstained, f"abstained (confidence {answer.confidence:.2f})"
    assert expected in answer.answer, answer.answer
    fits, clashes = type_fit(shape, answer.answer)
    assert fits and not clashes, f"{answer.answer!r} is not a {shape.value}"
    assert len(answer.answer.split()) <= 8, f"a run-on span: {answer.answer!r}"
    assert answer.citations and all(c.document_id.startswith(article)
                                    for c in answer.citations)
    for citation in answer.citations:
        text = desk.get(citation.document_id).text
        assert text[citation.start:citation.end] == citation.quote
        assert answer.answer in citation.quote


# ---- unanswerable_answered: the articles do not say ------------------------------------------

@pytest.mark.parametrize("question", [
    "How many people have died because of Storm Ingrid?",
    "Who designed the Kessel bridge?",
    weak(("How much is Ferreira's weekly wage?",), "answers the £32 million transfer fee"),
    weak(("Who is Hartwell United's manager?",), "answers the signed striker, Ferreira"),
    weak(("How big was Velmar's budget in 2024?",), "answers the 2025 budget"),
    weak(("How many people died in the Dornfeld measles outbreak?",),
         "answers the March case count"),
])
def test_a_question_the_articles_do_not_answer_is_abstained_on(desk, question: str) -> None:
    answer = ask(desk, question)
    assert answer.abstained, f"answered {answer.answer!r} at {answer.confidence:.2f}"
    assert answer.citations == []


# ---- wrongly_abstained: the articles say ---------------------------------------------------

@pytest.mark.parametrize(("question", "expected", "article", "shape"), [
    ("How many homes were evacuated because of Storm Ingrid?", "3,450", "storm-ingrid",
     AnswerType.NUMBER),
    ("How much did Hartwell United pay for Ferreira?", "£32 million", "hartwell-transfer",
     AnswerType.NUMBER),
    ("How many vehicles a day crossed the Kessel bridge before it closed?", "18,000",
     "kessel-bridge", AnswerType.NUMBER),
    weak(("How old is Tiago Ferreira?", "24", "hartwell-transfer", AnswerType.NUMBER),
         "abstains: the age stands alone between commas"),
])
def test_a_question_the_articles_answer_is_answered(desk, question: str, expected: str,
                                                    article: str, shape: AnswerType) -> None:
    assert_right(desk, question, expected, article, shape)


# ---- stale_figure: an earlier value in the same article ------------------------------------

@pytest.mark.parametrize(("question", "expected", "article"), [
    ("How many confirmed measles cases has Dornfeld had?", "410", "measles-count"),
    weak(("How many measles cases are there in Dornfeld?", "410", "measles-count"),
         "answers 120, the count in March"),
    # The reader prefers 2,000 (the injured sent home between January and March); the newest
    # statement, the article's own 600 of April 30, answers (service/answer/latest.py).
    ("How many North Korean soldiers have died in the war?", "600", SEED_ID),
])
def test_the_current_figure_wins_over_an_earlier_one(desk, question: str, expected: str,
                                                     article: str) -> None:
    assert_right(desk, question, expected, article, AnswerType.NUMBER)


# ---- wrong_type: the shape asked for ---------------------------------------------------------

@pytest.mark.parametrize(("question", "expected", "article", "shape"), [
    ("When was the Kessel bridge built?", "1931", "kessel-bridge", AnswerType.DATE),
    ("How much did the Kessel bridge repairs cost?", "64 million euros", "kessel-bridge",
     AnswerType.NUMBER),
    ("Which firm repaired the Kessel bridge?", "Halberg & Sohn", "kessel-bridge",
     AnswerType.ORGANISATION),
    ("Who is the director of the civil protection agency?", "Marta Lind", "storm-ingrid",
     AnswerType.PERSON),
    weak(("When did the Kessel bridge reopen?", "3 October", "kessel-bridge", AnswerType.DATE),
         "a run-on span from the date to the next sentence's year"),
])
def test_the_answer_has_the_shape_asked_for(desk, question: str, expected: str,
                                            article: str, shape: AnswerType) -> None:
    assert_right(desk, question, expected, article, shape)


# ---- wrong_entity: the right shape, about the thing asked ----------------------------------

@pytest.mark.parametrize(("question", "expected", "article", "shape"), [
    ("Who won the Zorblat10x prize?", "Samir Haddad", "zorblat10x", AnswerType.PERSON),
    ("Who won the Zorblat9x prize?", "Lena Okafor", "zorblat9x", AnswerType.PERSON),
    ("How much money does the Zorblat10x prize carry?", "75,000 euros", "zorblat10x",
     AnswerType.NUMBER),
    ("How much will Velmar spend on flood defences?", "210 million euros", "velmar-budget",
     AnswerType.NUMBER),
])
def test_the_answer_is_about_the_thing_asked(desk, question: str, expected: str,
                                             article: str, shape: AnswerType) -> None:
    assert_right(desk, question, expected, article, shape)
