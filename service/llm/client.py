"""The one OpenAI client (OpenAI itself or any OpenAI-compatible server), built lazily from
settings, and the translation of its failures into factdesk's typed LLM errors.

Only plain chat completions are used: no function calling, no JSON mode, which small local
models and many compatible servers get wrong. Every answer is streamed from the server, also
when the caller wants it whole, so that one deadline bounds the whole answer (the client's own
timeout only bounds each read) and a caller that stops reading closes the upstream request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any, Self

import openai

from service.config import Settings
from service.errors import LLMEmpty, LLMFailure, LLMNotConfigured, LLMTimeout, LLMUnavailable
from service.observability.metrics import (
    count_llm_error,
    count_llm_request,
    count_llm_tokens,
    time_llm_request,
)

# Local servers (llama.cpp, vLLM, Ollama) want no key, but the client insists on one.
PLACEHOLDER_KEY = "not-needed"


class LLMClient:
    """Chat completions through the ``openai`` package, configured by ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self.settings.llm_configured

    @property
    def model(self) -> str:
        return self.settings.llm_model or ""

    def require(self) -> None:
        missing = self.settings.llm_missing()
        if missing:
            raise LLMNotConfigured(
                "mode 'llm' needs an LLM; set " + " and ".join(missing)
                + " (see README, Configuration)"
            )

    @property
    def openai(self) -> openai.OpenAI:
        """Built at first use: a desk that never asks the LLM never builds a client."""
        self.require()
        if self._client is None:
            with self._lock:
                if self._client is None:
                    key = self.settings.openai_api_key
                    self._client = openai.OpenAI(
                        api_key=key.get_secret_value() if key else PLACEHOLDER_KEY,
                        base_url=self.settings.openai_base_url or None,
                        timeout=self.settings.llm_timeout,
                        max_retries=self.settings.llm_max_retries,
                    )
        return self._client

    def stream_chat(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> ChatStream:
        """Send the request now (so a refused connection or an error status raises here) and
        return the stream of text the model writes."""
        started = time.monotonic()
        deadline = started + self.settings.llm_timeout
        options: dict[str, Any] = {}
        if self.settings.llm_stream_usage:  # the stream then ends with the tokens used
            options["stream_options"] = {"include_usage": True}
        count_llm_request()
        try:
            upstream = self.openai.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens or self.settings.llm_max_tokens,
                temperature=self.settings.llm_temperature,
                stream=True,
                **options,
            )
        except Exception as error:  # every failure becomes a typed LLM error
            failure = llm_failure(error)
            count_llm_error(failure.code)
            time_llm_request(time.monotonic() - started)
            raise failure from error
        return ChatStream(upstream, deadline, self.settings.llm_timeout, started)

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None) -> str:
        with self.stream_chat(messages, max_tokens) as stream:
            return "".join(stream)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class ChatStream:
    """The text deltas of one streamed completion. Iterate once; ``close`` (or leaving a
    ``with`` block, or closing the iterator early) closes the upstream connection."""

    def __init__(self, upstream: Any, deadline: float, timeout: float,
                 started: float | None = None) -> None:
        self._upstream = upstream
        self._deadline = deadline
        self._timeout = timeout
        self._started = time.monotonic() if started is None else started
        self.closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._upstream.close()

    def __iter__(self) -> Iterator[str]:
        wrote = False
        try:
            _check_event_stream(self._upstream)
            for chunk in self._upstream:
                if time.monotonic() > self._deadline:
                    raise LLMTimeout(f"the LLM did not finish within {self._timeout:g} s")
                _count_usage(chunk)
                text = _delta_text(chunk)
                if text:
                    wrote = wrote or not text.isspace()
                    yield text
            if not wrote:
                raise LLMEmpty("the LLM wrote no text")
        except LLMFailure as failure:
            count_llm_error(failure.code)
            raise
        except Exception as error:
            typed = llm_failure(error)
            count_llm_error(typed.code)
            raise typed from error
        finally:
            self.close()
            time_llm_request(time.monotonic() - self._started)


def _check_event_stream(upstream: Any) -> None:
    response = getattr(upstream, "response", None)
    kind = response.headers.get("content-type", "") if response is not None else ""
    if response is not None and "text/event-stream" not in kind:
        raise LLMFailure(f"the LLM server answered {kind or 'without a content type'}, "
                         "not an event stream")


def _count_usage(chunk: Any) -> None:
    """The usage a server reports (in the last chunk, when asked with ``stream_options``)."""
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        count_llm_tokens(getattr(usage, "prompt_tokens", 0) or 0,
                         getattr(usage, "completion_tokens", 0) or 0)


def _delta_text(chunk: Any) -> str:
    """The text of one streamed chunk; chunks without choices (usage, keep-alive) have none."""
    choices = getattr(chunk, "choices", None)
    if choices is None:
        raise LLMFailure("the LLM server sent a chunk that is not a chat completion")
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else ""


def llm_failure(error: Exception) -> LLMFailure:
    """The typed error (and so the fallback reason) for anything the client raised."""
    if isinstance(error, LLMFailure):
        return error
    if isinstance(error, openai.APITimeoutError):
        return LLMTimeout("the LLM server did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return LLMUnavailable("cannot connect to the LLM server")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status in (429, 503):
            return LLMUnavailable(f"the LLM server is busy (HTTP {status}) after retries")
        return LLMFailure(f"the LLM server answered HTTP {status}")
    if isinstance(error, openai.OpenAIError):
        return LLMFailure(f"the LLM call failed: {type(error).__name__}")
    return LLMFailure(f"the LLM server sent output that could not be read "
                      f"({type(error).__name__})")
