"""What a summary is made from: stored articles, their chunks and their sentences."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.domain import Article, Chunk, Citation, Passage
from service.sentences import sentence_spans
from service.summarize.extractive import SourceSentence


@dataclass(frozen=True)
class Source:
    """One article to summarize: its current chunks and the sentences a summary may use
    (all of them, or those inside the passages retrieved for a question)."""

    article: Article
    chunks: tuple[Chunk, ...]
    sentences: tuple[SourceSentence, ...]

    def passages(self) -> list[Passage]:
        a = self.article
        return [Passage(chunk=c, title=a.title, score=0.0, published=a.published,
                        source=a.source, url=a.url) for c in self.chunks]

    def citation(self, sentence: SourceSentence) -> Citation:
        chunk = chunk_holding(self.chunks, sentence.start, sentence.end)
        a = self.article
        return Citation(a.id, a.title, chunk.id, sentence.start, sentence.end,
                        a.text[sentence.start:sentence.end], a.published, a.source, a.url)


def make_source(article: Article, chunks: Sequence[Chunk],
                within: Sequence[Chunk] | None = None) -> Source:
    """The article's sentences, numbered by their place in the whole article; with ``within``,
    only those inside one of those chunks."""
    ordered = tuple(sorted(chunks, key=lambda c: c.index))
    sentences = []
    for position, (start, end) in enumerate(sentence_spans(article.text)):
        if within is not None and not any(c.start <= start and end <= c.end for c in within):
            continue
        sentences.append(SourceSentence(article.id, position, start, end,
                                        article.text[start:end]))
    return Source(article, ordered, tuple(sentences))


def chunk_holding(chunks: Sequence[Chunk], start: int, end: int) -> Chunk:
    """The first chunk holding the span whole, else the one overlapping it most (a sentence
    longer than a chunk is split across chunks)."""
    for chunk in chunks:
        if chunk.start <= start and end <= chunk.end:
            return chunk
    return max(chunks, key=lambda c: min(c.end, end) - max(c.start, start))
