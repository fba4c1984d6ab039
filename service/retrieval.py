"""What asking and summarizing both read through: the question checked, a filter resolved to
the articles it admits, hybrid retrieval within them (the filter applied inside both searches,
before ranking), and the passages of the articles still stored as they were retrieved."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from service.chunk.chunker import chunk_id
from service.config import Settings
from service.domain import Passage
from service.errors import DocumentNotFound, InvalidInput
from service.retrieve import HybridRetriever, RetrievalMode
from service.scope import Scope, admitted
from service.store import ChromaStore
from service.sync import StoreView
from service.text_rules import check_text


class ScopedRetrieval:
    def __init__(self, settings: Settings, store: ChromaStore, view: StoreView,
                 retriever: HybridRetriever, sync: Callable[[], None]) -> None:
        self.settings = settings
        self.store = store
        self.view = view
        self.retriever = retriever
        self.sync = sync  # catches up with other processes' writes before a read

    def check_question(self, question: str) -> str:
        question = question.strip() if isinstance(question, str) else ""
        if not question:
            raise InvalidInput("question is empty")
        check_text("question", question)
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(
                f"question is {len(question)} characters; the limit is "
                f"{self.settings.max_question_chars}"
            )
        return question

    def retrieve(
        self,
        question: str,
        top_k: int | None,
        allowed: Sequence[str] | None,
        retrieval: RetrievalMode,
    ) -> Sequence[Passage]:
        """The best ``top_k`` passages of the articles ``allowed`` (every article when None):
        the filter is applied inside both searches, before ranking."""
        k = top_k if top_k is not None else self.settings.default_top_k
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidInput(f"top_k must be between 1 and {self.settings.max_top_k}, got {k}")
        if allowed is not None and not allowed:
            return []
        return list(self.retriever.retrieve(question, k, allowed, retrieval))

    def admitted(self, scope: Scope) -> list[str] | None:
        """The ids of the articles ``scope`` admits (None: all); named ids must exist."""
        document_ids = scope.document_ids
        if document_ids is not None:
            if len(document_ids) > self.settings.max_document_ids:
                raise InvalidInput(f"document_ids names {len(document_ids)} documents; the "
                                   f"limit is {self.settings.max_document_ids}")
            unknown = [d for d in document_ids if d not in self.view.catalog]
            if unknown:
                raise DocumentNotFound(f"unknown document ids: {', '.join(unknown)}")
            if not document_ids:
                raise InvalidInput("document_ids is empty; leave it out to search every document")
        return admitted(scope, self.view.catalog)

    def as_stored(self, passages: Sequence[Passage]) -> tuple[list[Passage], dict[str, str]]:
        """The passages whose article is still stored in the version they were cut from, and
        each such article's text, read once. A write between retrieval and this read (a delete,
        or an update replacing the chunks) drops that article's passages: their offsets refer
        to a text no longer stored."""
        stored = self.store.get_articles(list(dict.fromkeys(p.chunk.document_id
                                                            for p in passages)))
        kept = [p for p in passages
                if (found := stored.get(p.chunk.document_id)) is not None
                and p.chunk.id == chunk_id(p.chunk.document_id, found[1], p.chunk.index)]
        texts = {doc_id: found[0].text for doc_id, found in stored.items()}
        return kept, texts
