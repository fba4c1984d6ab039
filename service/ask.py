"""Ask: a question in, an answer with verified citations out, offline or from the LLM (streamed),
over the passages hybrid retrieval finds."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from service.answer import OfflineAnswerer, answer_offline
from service.answer.llm import open_answer_stream, prompt_passages, verify_draft
from service.config import Settings
from service.domain import (
    Answer,
    AnswerMode,
    AnswerSentence,
    AskEvent,
    Citation,
    Passage,
    PromptRef,
)
from service.embed.select import Embedder
from service.errors import LLMFailure
from service.llm.client import ChatStream, LLMClient
from service.reader import Reader
from service.reply import answer_mode, check_citations, verified_events
from service.retrieval import ScopedRetrieval
from service.retrieve import RetrievalMode
from service.scope import Scope, within


class Asker:
    def __init__(self, settings: Settings, embedder: Embedder, retrieval: ScopedRetrieval,
                 llm: LLMClient, reader: Callable[[], Reader],
                 answerer: OfflineAnswerer | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retrieval = retrieval
        self.llm = llm
        self.reader = reader  # loads the trained reader at the first offline answer
        self.answerer = answerer  # a baseline in the reader's place (None: the reader)

    def ask_stream(
        self,
        question: str,
        top_k: int | None = None,
        document_ids: Sequence[str] | None = None,
        retrieval: RetrievalMode = RetrievalMode.HYBRID,
        mode: AnswerMode | str = AnswerMode.AUTO,
        min_confidence: float | None = None,
        scope: Scope | None = None,
    ) -> Iterator[AskEvent]:
        """Deltas while the LLM writes, then the verified citations, then the ``Answer``,
        drawn from the articles ``scope`` admits (and ``document_ids``, when given, names).

        ``auto`` uses the LLM when one is configured and falls back to the offline answer when
        it fails; ``llm`` raises the LLM's failure instead (LLMTimeout, LLMUnavailable,
        LLMFailure). In both, an LLM answer with no supported sentence gives the offline one.

        Bad input, a missing LLM configuration (mode ``llm``) and an LLM that cannot be reached
        raise here, before any event; what fails later is raised (mode ``llm``) or becomes the
        offline answer (``auto``) inside the iteration. Closing the iterator early closes the
        request to the LLM server.
        """
        mode = answer_mode(mode)
        self.retrieval.sync()
        question = self.retrieval.check_question(question)
        scope = within(scope, document_ids)
        allowed = self.retrieval.admitted(scope)
        if allowed is not None and not allowed:
            return iter([nothing_admitted(scope)])
        if mode is AnswerMode.LLM:
            self.llm.require()
        passages, texts = self.retrieval.as_stored(
            self.retrieval.retrieve(question, top_k, allowed, retrieval))
        if mode is AnswerMode.OFFLINE or (mode is AnswerMode.AUTO and not self.llm.configured):
            return iter([self._offline(question, passages, texts,
                                       min_confidence=min_confidence)])
        # LLM settings come with the client, so a desk can be pointed at another LLM.
        numbered = prompt_passages(passages, self.llm.settings)
        try:
            prompt, stream = open_answer_stream(self.llm, question, numbered, self.llm.settings)
        except LLMFailure as failure:
            if mode is AnswerMode.LLM:
                raise
            return iter([self._offline(question, passages, texts, failure.code,
                                       min_confidence)])
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
        def verify(draft: str) -> Answer:
            answer = dated(verify_draft(draft, numbered, texts, self.embedder,
                                        self.llm.settings, prompt, all_passages=passages))
            if not answer.abstained and answer.as_of is not None:
                older = older_values(answer, self._offline(question, passages, texts))
                answer = replace(answer, supersedes=older)
            return answer

        def fallback(reason: str) -> Answer:
            return self._offline(question, passages, texts, reason)

        return verified_events(stream, verify, fallback, texts, mode)

    def _offline(
        self,
        question: str,
        passages: Sequence[Passage],
        texts: dict[str, str],
        fallback_reason: str | None = None,
        min_confidence: float | None = None,
    ) -> Answer:
        if min_confidence is None:
            min_confidence = self.settings.min_confidence
        if self.answerer is not None:
            answer = self.answerer(question, passages, texts)
        else:
            answer = answer_offline(question, passages, texts, self.reader(),
                                    self.settings.reader_null_margin,
                                    self.settings.reader_rank_weight,
                                    self.settings.reader_passages, min_confidence)
        sentences = answer.sentences or [  # the offline answer is one sentence, its citations
            AnswerSentence(answer.answer, tuple(answer.citations), bool(answer.citations))]
        answer = replace(answer, mode="offline", fallback_reason=fallback_reason, prompt=None,
                         sentences=sentences)
        check_citations(answer, texts)
        return dated(answer)


def nothing_admitted(scope: Scope) -> Answer:
    """The reply when no stored article passes the filter: an abstention that says so."""
    return Answer(answer=f"No stored article matches the filter ({scope.describe()}).",
                  abstained=True, confidence=1.0)


def older_values(answer: Answer, offline: Answer) -> list[Citation]:
    """The superseded citations of an LLM ``answer``: the older values the offline reader finds
    in the same passages (its superseded figures, and its own answer when that is older),
    dated before the LLM's evidence and not among what the LLM cites."""
    if answer.as_of is None or offline.abstained:
        return []
    cited = {(c.document_id, c.start, c.end) for c in answer.citations}
    older = [*offline.supersedes, *(offline.citations if offline.as_of and offline.as_of
                                    < answer.as_of else [])]
    return [c for c in dict.fromkeys(older)
            if c.dated and c.dated < answer.as_of
            and (c.document_id, c.start, c.end) not in cited]


def dated(answer: Answer) -> Answer:
    """``answer`` with ``as_of`` set: the newest date of the evidence it cites."""
    dates = [d for c in answer.citations if (d := c.dated)]
    return replace(answer, as_of=max(dates) if dates else None)
