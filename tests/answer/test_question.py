import pytest

from service.answer.question import AnswerType, analyse_question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many North Korean soldiers have died?", AnswerType.NUMBER),
        ("What total number of casualties did the agency report?", AnswerType.NUMBER),
        ("When did the briefing take place?", AnswerType.DATE),
        ("On what exact date does the truce begin?", AnswerType.DATE),
        ("Which party does Lee Seong Kweun represent?", AnswerType.ORGANISATION),
        ("Which elite North Korean unit was deployed?", AnswerType.ORGANISATION),
        ("Which news agencies contributed to the report?", AnswerType.ORGANISATION),
        ("To which city did the minister fly?", AnswerType.PLACE),
        ("Where were the troops deployed?", AnswerType.PLACE),
        ("Which lawmaker told reporters?", AnswerType.PERSON),
        ("What is the name of the director of the agency?", AnswerType.PERSON),
        ("Who won the 2022 World Cup?", AnswerType.AGENT),
        ("What did Russia give North Korea?", AnswerType.OTHER),
    ],
)
def test_answer_type(question: str, expected: AnswerType) -> None:
    assert analyse_question(question).answer_type is expected


def test_key_terms_are_names_and_numbers() -> None:
    q = analyse_question("Who won the 2022 World Cup?")
    assert set(q.key_terms) == {"2022", "world", "cup"}
    assert "won" in q.terms


def test_head_noun_and_time_mention() -> None:
    assert analyse_question("Which party does Kim represent?").head == "parti"
    assert analyse_question("What did the NIS estimate in January?").mentions_time
    assert not analyse_question("How many soldiers have died?").mentions_time
