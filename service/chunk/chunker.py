"""Split an article into overlapping chunks sized in tokens of the embedding model.

langchain-text-splitters decides where to cut (paragraphs, then lines, then sentences, then
words); the char offsets are computed here, because the library's ``add_start_index`` is wrong
when chunks overlap. Every chunk satisfies ``text[start:end] == chunk.text``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from service.domain import Chunk
from service.errors import InvariantBroken

# Paragraph, line, sentence ends, clause ends, words, characters: coarsest first.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]


def chunk_id(document_id: str, version: str, index: int) -> str:
    return f"{document_id}:{version}:{index}"


def document_of(chunk_id: str) -> str:
    """The id of the article a chunk id names (document ids hold no ':')."""
    return chunk_id.rsplit(":", 2)[0]


def chunk_article(
    document_id: str,
    text: str,
    *,
    version: str,
    count_tokens: Callable[[str], int],
    chunk_tokens: int,
    overlap_tokens: int,
) -> list[Chunk]:
    """Chunks of at most ``chunk_tokens`` tokens (unless one word alone is longer)."""
    if overlap_tokens >= chunk_tokens:
        raise ValueError("chunk overlap must be smaller than the chunk size")
    length = lru_cache(maxsize=16384)(count_tokens)
    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        length_function=length,
        strip_whitespace=True,
    )
    pieces = splitter.split_text(text)
    return list(_locate(document_id, version, text, pieces, length, overlap_tokens))


def _locate(
    document_id: str,
    version: str,
    text: str,
    pieces: list[str],
    count_tokens: Callable[[str], int],
    overlap_tokens: int,
) -> Iterator[Chunk]:
    """Find each piece in order. A piece starts after the previous piece's start, no later
    than the previous end (plus the white space there), and reaches past the previous end.
    In ordinary text one match fits; in repetitive text several do, and the splitter's own
    rule picks the one: the longest overlap within ``overlap_tokens``."""
    previous_start, previous_end = -1, 0
    for index, piece in enumerate(pieces):
        gap = len(text[previous_end:]) - len(text[previous_end:].lstrip())
        fits = []
        start = text.find(piece, previous_start + 1, previous_end + gap + len(piece))
        while start >= 0:
            if start + len(piece) > previous_end:
                fits.append(start)
            start = text.find(piece, start + 1, previous_end + gap + len(piece))
        if len(fits) > 1:
            within = [s for s in fits if count_tokens(text[s:previous_end]) <= overlap_tokens]
            fits = within or fits[-1:]
        start = fits[0] if fits else text.find(piece, previous_start + 1)
        if start < 0:
            raise InvariantBroken(f"chunk {index} not found in the article text")
        end = start + len(piece)
        if text[start:end] != piece:
            raise InvariantBroken(f"chunk {index} does not hold at its offsets")
        previous_start, previous_end = start, end
        yield Chunk(
            id=chunk_id(document_id, version, index),
            document_id=document_id,
            index=index,
            start=start,
            end=end,
            text=piece,
        )
