from service.sentences import sentence_spans


def texts(text: str) -> list[str]:
    spans = sentence_spans(text)
    return [text[s:e] for s, e in spans]


def test_abbreviations_initials_and_decimals_do_not_split() -> None:
    text = 'Dr. Smith met Mr. J. Doe at 5 p.m. on Jan. 3. He said "Yes." It was 3.5 km.'
    assert texts(text) == ["Dr. Smith met Mr. J. Doe at 5 p.m. on Jan. 3.", 'He said "Yes."',
                           "It was 3.5 km."]


def test_lines_are_boundaries_and_offsets_are_exact() -> None:
    text = "Headline Without Stop\n\n  First sentence here. Second one?\nThird!"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["Headline Without Stop", "First sentence here.",
                                             "Second one?", "Third!"]


def test_sub_range() -> None:
    text = "One. Two. Three."
    assert [text[s:e] for s, e in sentence_spans(text, 5, 9)] == ["Two."]
