"""What the eval asks: an embedded Factdesk, or a running server over HTTP.

Both give the same small interface, so the runner does not care which one it measures.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from service.domain import Citation
from service.embed.select import make_embedder
from service.evaluation.metrics import RetrievedSpan
from service.evaluation.rules_answerer import configured_answerer
from service.llm.prompts import prompt_versions
from service.retrieve import RetrievalMode
from service.scope import Scope

HTTP_TIMEOUT_S = 120.0


@dataclass
class Reply:
    answer: str
    abstained: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[RetrievedSpan] = field(default_factory=list)
    mode: str = "offline"  # the mode that produced the answer
    fallback_reason: str | None = None  # why the LLM's answer was not used, when it was not


class EvalTarget(Protocol):
    def ingest_file(self, path: Path) -> str: ...

    def ingest_text(self, text: str, document_id: str,
                    meta: Mapping[str, str] | None = None) -> str: ...

    def ask(self, question: str, document_ids: Sequence[str] | None = None,
            scope: Scope | None = None) -> Reply: ...

    def document_text(self, document_id: str) -> str: ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class EmbeddedTarget:
    """A Factdesk in this process, on ``data_dir`` or on a fresh temporary store."""

    def __init__(self, data_dir: Path | None = None,
                 retrieval: RetrievalMode = RetrievalMode.HYBRID, mode: str = "offline") -> None:
        from service.config import get_settings
        from service.desk import Factdesk  # loads the model: only when an eval runs

        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="factdesk-eval-",
                                                    ignore_cleanup_errors=True)
            data_dir = Path(self._tmp.name)
        self.settings = get_settings().model_copy(update={"data_dir": data_dir})
        embedder = make_embedder(self.settings)
        self.desk = Factdesk(self.settings, embedder,
                             configured_answerer(self.settings, embedder))
        self.retrieval = retrieval
        self.mode = mode

    def ingest_file(self, path: Path) -> str:
        return self.desk.ingest_path(path).id

    def ingest_text(self, text: str, document_id: str,
                    meta: Mapping[str, str] | None = None) -> str:
        return self.desk.ingest(text, "text", document_id=document_id, **(meta or {})).id

    def ask(self, question: str, document_ids: Sequence[str] | None = None,
            scope: Scope | None = None) -> Reply:
        answer = self.desk.ask(question, document_ids=document_ids, retrieval=self.retrieval,
                               mode=self.mode, scope=scope)
        return Reply(
            answer=answer.answer,
            abstained=answer.abstained,
            confidence=answer.confidence,
            citations=list(answer.citations),
            passages=[
                RetrievedSpan(p.chunk.id, p.chunk.document_id, p.chunk.start, p.chunk.end,
                              p.score)
                for p in answer.passages
            ],
            mode=answer.mode,
            fallback_reason=answer.fallback_reason,
        )

    def document_text(self, document_id: str) -> str:
        return self.desk.get(document_id).text

    def describe(self) -> dict[str, Any]:
        return {
            "target": "embedded",
            "mode": self.mode,
            "prompts": prompt_versions(self.settings.prompts_dir),
            "data_dir": "temporary" if self._tmp else str(self.settings.data_dir),
            "retrieval": self.retrieval.value,
            "chunk_tokens": self.settings.chunk_tokens,
            "chunk_overlap_tokens": self.settings.chunk_overlap_tokens,
            "top_k": self.settings.default_top_k,
        }

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


class HttpTarget:
    """A running factdesk server: POST /v1/documents, POST /v1/ask, GET /v1/documents/{id}."""

    def __init__(self, url: str, timeout_s: float = HTTP_TIMEOUT_S, mode: str = "offline") -> None:
        self.url = url.rstrip("/")
        self.mode = mode
        self.client = httpx.Client(base_url=self.url, timeout=timeout_s)
        self._texts: dict[str, str] = {}

    def ingest_file(self, path: Path) -> str:
        from service.ingest import ArticleIn  # as `factdesk ingest` sends it

        return self._ingest(ArticleIn.from_path(path).as_request())

    def ingest_text(self, text: str, document_id: str,
                    meta: Mapping[str, str] | None = None) -> str:
        return self._ingest({"text": text, "id": document_id, "format": "text", **(meta or {})})

    def _ingest(self, body: dict[str, str]) -> str:
        self._texts.pop(body["id"], None)
        return str(_json(self.client.post("/v1/documents", json=body))["id"])

    def ask(self, question: str, document_ids: Sequence[str] | None = None,
            scope: Scope | None = None) -> Reply:
        body: dict[str, Any] = {"question": question, "mode": self.mode}
        if document_ids is not None:
            body["document_ids"] = list(document_ids)
        if scope is not None:
            body.update({k: v for k, v in [
                ("published_after", scope.published_after),
                ("published_before", scope.published_before),
                ("sources", list(scope.sources) if scope.sources else None),
                ("as_of", scope.as_of)] if v is not None})
        data = _json(self.client.post("/v1/ask", json=body))
        return Reply(
            answer=data["answer"],
            abstained=data["abstained"],
            confidence=data["confidence"],
            citations=[Citation(**c) for c in data["citations"]],
            passages=[
                RetrievedSpan(p["chunk_id"], p["document_id"], p["start"], p["end"], p["score"])
                for p in data["passages"]
            ],
            mode=data.get("mode", "offline"),
            fallback_reason=data.get("fallback_reason"),
        )

    def document_text(self, document_id: str) -> str:
        if document_id not in self._texts:
            data = _json(self.client.get(f"/v1/documents/{document_id}"))
            self._texts[document_id] = data["text"]
        return self._texts[document_id]

    def describe(self) -> dict[str, Any]:
        # The server's chunking and retrieval settings are not visible over HTTP.
        return {"target": "url", "url": self.url, "mode": self.mode, "retrieval": "server default",
                "chunk_tokens": None, "chunk_overlap_tokens": None, "top_k": None}

    def close(self) -> None:
        self.client.close()


class ServiceCallFailed(Exception):
    """The server answered with an error status."""


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.is_error:
        try:
            error = response.json()["error"]
            detail = f"{error['code']}: {error['message']}"
        except (ValueError, KeyError, TypeError):
            detail = response.text[:200]
        raise ServiceCallFailed(f"HTTP {response.status_code} {detail}")
    data: dict[str, Any] = response.json()
    return data
