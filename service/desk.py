"""The factdesk services behind both doors (HTTP and CLI): ingest, list, delete, ask."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

from service.answer import answer_offline
from service.answer.llm import open_answer_stream, prompt_passages, verify_draft
from service.chunk import chunk_article
from service.config import Settings, get_settings
from service.domain import (
    Answer,
    AnswerDelta,
    AnswerMode,
    AnswerSentence,
    Article,
    ArticleFormat,
    AskEvent,
    CitationFound,
    IngestResult,
    IngestStatus,
    Passage,
    PromptRef,
)
from service.embed.select import Embedder, make_embedder, make_embedding_function
from service.errors import DocumentNotFound, InvalidInput, LLMFailure, NoSupportedSentence
from service.llm.client import ChatStream, LLMClient
from service.parse import decode, parse_article
from service.retrieve import HybridRetriever, LexicalIndex, RetrievalMode
from service.store import ChromaStore
from service.store.chroma_store import make_client
from service.verify.citations import verify_citation

DOCUMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
SEED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}


class Factdesk:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or get_settings()
        self.embedder = embedder or make_embedder(self.settings)
        client = make_client(str(self.settings.data_dir), self.settings.chroma_url)
        self.store = ChromaStore(client, make_embedding_function(self.embedder),
                                 self.settings.collection_prefix)
        self.lexical = LexicalIndex()
        self._catalog: dict[str, tuple[str, str]] = {}  # id -> (version, title)
        self._write_lock = threading.Lock()
        self.llm = LLMClient(self.settings)  # builds its OpenAI client only when first asked
        self.retriever = HybridRetriever(
            self.store,
            self.lexical,
            embed_query=lambda text: self.embedder.embed_cached([text])[0],
            current_version=lambda doc_id: self._catalog.get(doc_id, (None, ""))[0],
            title_of=lambda doc_id: self._catalog.get(doc_id, ("", ""))[1],
        )
        self.reload()

    def reload(self) -> None:
        """Rebuild the in-memory catalog and lexical index from the store."""
        catalog = {a.id: (version, a.title) for a, version in self.store.list_articles()}
        self._catalog = catalog
        self.lexical.replace_all(
            (s.chunk.id, s.chunk.text)
            for s in self.store.iter_chunks()
            if catalog.get(s.chunk.document_id, (None,))[0] == s.version
        )

    # ---- documents ---------------------------------------------------------------------

    def ingest(
        self,
        raw: str | bytes,
        fmt: ArticleFormat | str | None = None,
        *,
        document_id: str | None = None,
        filename: str | None = None,
        title: str | None = None,
        url: str | None = None,
        published: str | None = None,
        source: str | None = None,
        author: str | None = None,
    ) -> IngestResult:
        if document_id is not None:
            check_document_id(document_id)
        # Uploads arrive as bytes; the limit is on the decoded text either way.
        content = decode(raw)
        length = len(content)
        if length > self.settings.max_document_chars:
            raise InvalidInput(
                f"text is {length} characters; the limit is {self.settings.max_document_chars}"
            )
        parsed = parse_article(
            content, fmt, filename=filename, title=title, url=url, published=published,
            source=source, author=author,
        )
        described = {
            "text": parsed.text, "title": parsed.title, "author": parsed.author,
            "published": parsed.published, "url": parsed.url, "source": parsed.source,
        }
        content_hash = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()
        doc_id = document_id or _derived_id(parsed.url, parsed.text)
        version = content_hash[:16]

        with self._write_lock:
            existing = self.store.get_article(doc_id)
            if existing and existing[0].content_hash == content_hash:
                return IngestResult(doc_id, existing[0].title, existing[0].chunk_count,
                                    IngestStatus.UNCHANGED)
            chunks = chunk_article(
                doc_id, parsed.text, version=version,
                count_tokens=self.embedder.count_tokens,
                chunk_tokens=self.settings.chunk_tokens,
                overlap_tokens=self.settings.chunk_overlap_tokens,
            )
            vectors = self.embedder.embed([c.text for c in chunks])
            article = Article(
                id=doc_id, text=parsed.text, title=parsed.title, content_hash=content_hash,
                chunk_count=len(chunks), format=parsed.format,
                author=parsed.author, published=parsed.published, url=parsed.url,
                source=parsed.source, ingested_at=datetime.now(timezone.utc).isoformat(),
            )
            self.store.put_article(article, version, chunks, vectors)
            self.lexical.remove_document(doc_id)
            self.lexical.add((c.id, c.text) for c in chunks)
            self._catalog[doc_id] = (version, article.title)
        status = IngestStatus.UPDATED if existing else IngestStatus.CREATED
        return IngestResult(doc_id, article.title, len(chunks), status)

    def ingest_path(self, path: Path) -> IngestResult:
        return self.ingest(path.read_bytes(), None, document_id=_id_from_filename(path),
                           filename=path.name)

    def ingest_seeds(self) -> list[IngestResult]:
        seeds = sorted(p for p in self.settings.seeds_dir.glob("*") if p.suffix in SEED_SUFFIXES)
        return [self.ingest_path(p) for p in seeds]

    def get(self, document_id: str) -> Article:
        found = self.store.get_article(document_id)
        if not found:
            raise DocumentNotFound(f"no document with id '{document_id}'")
        return found[0]

    def list(self) -> list[Article]:
        return sorted((a for a, _ in self.store.list_articles()), key=lambda a: a.id)

    def delete(self, document_id: str) -> None:
        with self._write_lock:
            self.get(document_id)
            self.store.delete_article(document_id)
            self.lexical.remove_document(document_id)
            self._catalog.pop(document_id, None)

    def is_empty(self) -> bool:
        return not self._catalog

    def counts(self) -> tuple[int, int]:
        """Documents and chunks, from the in-memory catalog and lexical index (no store scan)."""
        return len(self._catalog), len(self.lexical)

    # ---- questions ---------------------------------------------------------------------

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
    ) -> Answer:
        """The answer to ``question``: the last event of ``ask_stream``.

        ``auto`` uses the LLM when one is configured and falls back to the offline answer when
        it fails; ``llm`` raises the LLM's failure instead (LLMTimeout, LLMUnavailable,
        LLMFailure). In both, an LLM answer with no supported sentence gives the offline one.
        """
        final: AskEvent | None = None
        for final in self.ask_stream(question, top_k, document_ids, retrieval, mode):
            pass
        assert isinstance(final, Answer)
        return final

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
    ) -> Iterator[AskEvent]:
        """Deltas while the LLM writes, then the verified citations, then the ``Answer``.

        Bad input, a missing LLM configuration (mode ``llm``) and an LLM that cannot be reached
        raise here, before any event; what fails later is raised (mode ``llm``) or becomes the
        offline answer (``auto``) inside the iteration. Closing the iterator early closes the
        request to the LLM server.
        """
        mode = _answer_mode(mode)
        question = self.check_question(question)
        if mode is AnswerMode.LLM:
            self.llm.require()
        passages = self._retrieve(question, top_k, document_ids, retrieval)
        texts = {p.chunk.document_id: self._article_text(p.chunk.document_id) for p in passages}
        if mode is AnswerMode.OFFLINE or (mode is AnswerMode.AUTO and not self.llm.configured):
            return iter([self._offline(question, passages, texts)])
        # LLM settings come with the client, so a desk can be pointed at another LLM.
        numbered = prompt_passages(passages, self.llm.settings)
        try:
            prompt, stream = open_answer_stream(self.llm, question, numbered, self.llm.settings)
        except LLMFailure as failure:
            if mode is AnswerMode.LLM:
                raise
            return iter([self._offline(question, passages, texts, failure.code)])
        return self._llm_events(question, passages, numbered, texts, prompt, stream, mode)

    def _llm_events(
        self,
        question: str,
        passages: Sequence[Passage],
        numbered: Sequence[Passage],
        texts: dict[str, str],
        prompt: PromptRef,
        stream: ChatStream,
        mode: AnswerMode,
    ) -> Iterator[AskEvent]:
        parts: list[str] = []
        try:
            with stream:
                for delta in stream:
                    parts.append(delta)
                    yield AnswerDelta(delta)
            answer = verify_draft("".join(parts), numbered, texts, self.embedder,
                                  self.llm.settings, prompt, all_passages=passages)
        except NoSupportedSentence as failure:
            answer = self._offline(question, passages, texts, failure.code)
        except LLMFailure as failure:
            if mode is AnswerMode.LLM:
                raise
            answer = self._offline(question, passages, texts, failure.code)
        _check_citations(answer, texts)
        for number, sentence in enumerate(answer.sentences):
            for citation in sentence.citations:
                yield CitationFound(number, citation)
        yield answer

    def _retrieve(
        self,
        question: str,
        top_k: int | None,
        document_ids: Sequence[str] | None,
        retrieval: RetrievalMode,
    ) -> Sequence[Passage]:
        k = top_k if top_k is not None else self.settings.default_top_k
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidInput(f"top_k must be between 1 and {self.settings.max_top_k}, got {k}")
        if document_ids is not None:
            unknown = [d for d in document_ids if d not in self._catalog]
            if unknown:
                raise DocumentNotFound(f"unknown document ids: {', '.join(unknown)}")
            if not document_ids:
                raise InvalidInput("document_ids is empty; leave it out to search every document")
        return list(self.retriever.retrieve(question, k, document_ids, retrieval))

    def _offline(
        self,
        question: str,
        passages: Sequence[Passage],
        texts: dict[str, str],
        fallback_reason: str | None = None,
    ) -> Answer:
        answer = answer_offline(question, passages, texts, self.embedder)
        answer.mode = "offline"
        answer.fallback_reason = fallback_reason
        answer.prompt = None
        if not answer.sentences:  # the offline answer is one sentence: the answer, its citations
            answer.sentences = [AnswerSentence(answer.answer, tuple(answer.citations),
                                               bool(answer.citations))]
        _check_citations(answer, texts)
        return answer

    def check_question(self, question: str) -> str:
        question = question.strip() if isinstance(question, str) else ""
        if not question:
            raise InvalidInput("question is empty")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(
                f"question is {len(question)} characters; the limit is "
                f"{self.settings.max_question_chars}"
            )
        return question

    def _article_text(self, document_id: str) -> str:
        return self.get(document_id).text


def check_document_id(document_id: str) -> None:
    if not DOCUMENT_ID.match(document_id):
        raise InvalidInput(
            "id must be 1-128 characters of letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit; got {document_id!r}"
        )


def _check_citations(answer: Answer, texts: dict[str, str]) -> None:
    """Every citation must be the stored text at its offsets; anything else is a bug."""
    for citation in [*answer.citations, *(c for s in answer.sentences for c in s.citations)]:
        if not verify_citation(citation, texts[citation.document_id]):
            raise AssertionError(f"citation {citation} does not match the stored text")


def _answer_mode(mode: AnswerMode | str) -> AnswerMode:
    try:
        return AnswerMode(mode)
    except ValueError:
        raise InvalidInput(f"mode must be offline, llm or auto; got {mode!r}") from None


def _derived_id(url: str | None, text: str) -> str:
    basis = url if url else text
    return "doc-" + hashlib.sha256(basis.encode()).hexdigest()[:16]


def _id_from_filename(path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "-", path.stem).strip("-.") or "document"
    return stem[:128]


__all__ = ["Factdesk", "check_document_id"]
