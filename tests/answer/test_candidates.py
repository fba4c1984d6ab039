from service.answer.candidates import find_candidates
from service.answer.question import AnswerType

TEXT = (
    "North Korea has suffered 4,700 casualties, including 600 deaths, in the conflict, "
    "South Korea’s spy agency told lawmakers at a briefing on April 30. "
    "In November 2024, Russian Defense Minister Andrei Belousov flew to Pyongyang for talks. "
    "Lee, who represents the conservative People’s Power Party, spoke for the first time."
)


def spans(kind: AnswerType) -> list[str]:
    found = find_candidates(TEXT, 0, len(TEXT), kind)
    for c in found:
        assert TEXT[c.start : c.end] == c.text  # every span is an exact slice
    return [c.text for c in found]


def test_numbers_are_counts_not_dates_or_ordinals() -> None:
    numbers = spans(AnswerType.NUMBER)
    assert "4,700" in numbers and "600" in numbers
    assert "30" not in numbers and "2024" not in numbers and "first" not in numbers


def test_dates() -> None:
    assert {"April 30", "November 2024"} <= set(spans(AnswerType.DATE))


def test_date_ranges_are_candidates_too() -> None:
    text = "The wounded were flown home between January and March, and the truce ran from May 8 to May 11."
    found = [c.text for c in find_candidates(text, 0, len(text), AnswerType.DATE)]
    assert "between January and March" in found and "from May 8 to May 11" in found
    assert "January" in found and "May 11" in found  # the single dates stay


def test_people_lose_their_titles() -> None:
    people = spans(AnswerType.PERSON)
    assert "Andrei Belousov" in people
    assert not any("Minister" in p for p in people)


def test_organisations_and_places() -> None:
    assert "People’s Power Party" in spans(AnswerType.ORGANISATION)
    places = spans(AnswerType.PLACE)
    assert "Pyongyang" in places and "North Korea" in places
