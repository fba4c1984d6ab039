from pathlib import Path

import pytest

from service.chunk import chunk_article
from service.embed.minilm import get_embedder

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_60f6bed6cec462ff.txt"

pytestmark = pytest.mark.integration


def chunks_of(text: str, size: int = 64, overlap: int = 16):
    embedder = get_embedder()
    return chunk_article("doc", text, version="v1", count_tokens=embedder.count_tokens,
                         chunk_tokens=size, overlap_tokens=overlap)


def assert_exact_and_covering(text: str, chunks, size: int) -> None:
    embedder = get_embedder()
    assert chunks, "no chunks"
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.id == f"doc:v1:{chunk.index}"
    # Every non-space character is in some chunk, and chunks come in text order.
    covered = [False] * len(text)
    for chunk in chunks:
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for chunk in chunks:
        if " " in chunk.text.strip():  # a single over-long word cannot be split further
            assert embedder.count_tokens(chunk.text) <= size


def test_seed_chunks_are_exact_spans_and_overlap():
    text = SEED.read_text(encoding="utf-8")
    chunks = chunks_of(text)
    assert_exact_and_covering(text, chunks, 64)
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:])), "no overlap between chunks"


def test_chunks_end_on_sentence_or_paragraph_boundaries():
    text = SEED.read_text(encoding="utf-8")
    chunks = chunks_of(text, size=96, overlap=16)
    ends = [c.text[-1] for c in chunks[:-1]]
    # Most chunks end at a sentence end or a line end, not mid-sentence.
    at_boundary = sum(e in ".!?”\"" or text[c.end : c.end + 1] in ("\n", "") for e, c in zip(ends, chunks))
    assert at_boundary >= 0.8 * len(ends)


@pytest.mark.parametrize(
    "text",
    [
        "Zürich’s café — “naïve” résumé 東京 🚀 emoji. " * 40,
        ("word " * 3000).strip(),  # one huge paragraph with no punctuation
        " ".join(f"token{i} and more words without any punctuation" for i in range(600)),
        "see https://example.org/" + "a1b2c3" * 300 + " for the long link",  # one huge word
        "First paragraph.\n\n\n\nSecond\tparagraph with\u00a0odd spaces.\r\nThird line.",
        "Repeat this sentence. " * 200,  # identical text everywhere: offsets must still advance
    ],
)
def test_tricky_text_offsets(text):
    chunks = chunks_of(text)
    assert_exact_and_covering(text, chunks, 64)


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError):
        chunks_of("Some text.", size=16, overlap=16)


def test_degenerate_character_run_still_gives_exact_spans():
    text = "A" * 5000
    for chunk in chunks_of(text):
        assert text[chunk.start : chunk.end] == chunk.text
