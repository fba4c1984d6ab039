"""Windows and their token offsets: every span the reader can return is an exact slice of the
passage, whatever the characters (curly quotes, dashes, accents, emoji)."""

from __future__ import annotations

import pytest

from service.reader.model_files import TOKENIZER_FILE
from service.reader.windows import STRIDE, load_tokenizer, make_windows

UNICODE_PASSAGE = (
    "“We won’t back down,” said Zoë Kravčenko — the mayor of Łódź — on Tuesday. "
    "The café on Rue de l’Église raised €1,200 🎉 for the Naïve Art Museum… "
    "Attendance rose 12% (to 3,400 people) after São Paulo’s festival 🇧🇷 ended."
)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(TOKENIZER_FILE)


def test_token_offsets_slice_the_passage_exactly(tokenizer) -> None:
    windows = make_windows(tokenizer, "Who is the mayor of Łódź?", [UNICODE_PASSAGE])
    assert len(windows) == 1
    window = windows[0]
    assert window.offsets[0] == (-1, -1)  # [CLS]: the no-answer position
    words = set()
    for i in range(window.context_start, window.context_end + 1):
        a, b = window.offsets[i]
        assert 0 <= a < b <= len(UNICODE_PASSAGE)
        piece = UNICODE_PASSAGE[a:b]
        assert piece.strip() == piece and piece  # a token never covers white space alone
        words.add(piece)
    for expected in ("Zoë", "Łódź", "€", "🎉", "’", "—", "…"):
        assert any(expected in w or w in expected for w in words), expected
    # A span across tokens maps back to the characters between them.
    first = next(i for i in range(window.context_start, window.context_end + 1)
                 if UNICODE_PASSAGE[slice(*window.offsets[i])] == "zoe".title()[:0] + "Zoë"
                 or UNICODE_PASSAGE[slice(*window.offsets[i])].startswith("Zo"))
    last = first
    while not UNICODE_PASSAGE[window.offsets[last][0]:window.offsets[last][1]].endswith("enko"):
        last += 1
    a, b = window.char_span(first, last)
    assert UNICODE_PASSAGE[a:b] == "Zoë Kravčenko"


def test_long_passage_is_cut_into_overlapping_windows_that_cover_it(tokenizer) -> None:
    passage = " ".join(f"Sentence {i} names the figure {i * 7} in Łódź." for i in range(120))
    windows = make_windows(tokenizer, "Which figure is named?", [passage])
    assert len(windows) > 3
    covered = [False] * len(passage)
    for window in windows:
        assert len(window.ids) <= 192
        for i in range(window.context_start, window.context_end + 1):
            a, b = window.offsets[i]
            covered[a:b] = [True] * (b - a)
    assert all(covered[i] for i, ch in enumerate(passage) if not ch.isspace())
    # Consecutive windows share STRIDE tokens of the passage.
    first, second = windows[0], windows[1]
    shared = set(first.offsets[first.context_start:first.context_end + 1]) & set(
        second.offsets[second.context_start:second.context_end + 1])
    assert len(shared) == STRIDE


def test_windows_keep_their_passage_index_and_a_long_question_is_clipped(tokenizer) -> None:
    question = "What " + "very " * 200 + "long question is this?"
    windows = make_windows(tokenizer, question, ["First passage.", "Second passage here."])
    assert [w.passage for w in windows] == [0, 1]
    for window in windows:
        assert window.context_end - window.context_start + 1 >= 2  # the passage kept its room
        assert len(window.ids) <= 192
