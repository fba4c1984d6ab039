"""LLM-written answers: number the passages into a prompt, let the model write, then keep only
what the passages support (service/verify/citations.py) with citations cut from the articles.

The model's text is a draft. Each sentence gets the best-matching span of the passages it
cites; a sentence with none is flagged (``supported: false``, no citation) or dropped,
as ``FACTDESK_LLM_UNSUPPORTED`` says; a draft with no supported sentence is not an answer
(``NoSupportedSentence``: the desk falls back to the offline answerer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from service.config import Settings
from service.domain import Answer, AnswerSentence, Citation, Passage, PromptRef
from service.errors import LLMEmpty, NoSupportedSentence
from service.llm.client import ChatStream, LLMClient
from service.llm.prompts import PromptTemplate, get_prompt
from service.verify.citations import Embedder, locate_support, split_draft

# What a model writes when it (rightly) will not answer; the prompt asks for the first form.
_REFUSAL = re.compile(
    r"\b(?:cannot|can ?not|can't|unable to) (?:answer|tell|say|determine|find)"
    r"|\b(?:do|does) not (?:say|mention|answer|contain|provide|state)"
    r"|\bno (?:information|mention)\b|\bnot (?:mentioned|stated|provided)\b",
    re.IGNORECASE,
)


def prompt_for(settings: Settings) -> PromptTemplate:
    return get_prompt(settings.prompts_dir, settings.llm_prompt)


def prompt_passages(passages: Sequence[Passage], settings: Settings) -> list[Passage]:
    """The passages numbered into the prompt: [1] is the best-ranked."""
    return list(passages[: settings.llm_max_passages])


def format_passages(passages: Sequence[Passage]) -> str:
    """Each passage with its number, title, source and date (the model is asked to prefer the
    newest figure and to say its date)."""
    return "\n\n".join(
        f"[{n}] {p.heading}\n{' '.join(p.chunk.text.split())}"
        for n, p in enumerate(passages, 1)
    )


def open_answer_stream(
    llm: LLMClient, question: str, passages: Sequence[Passage], settings: Settings
) -> tuple[PromptRef, ChatStream]:
    """Send the prompt; raises a typed LLM error when the server cannot be asked."""
    prompt = prompt_for(settings)
    messages = prompt.messages(question=question, passages=format_passages(passages))
    return prompt.ref, llm.stream_chat(messages)


def verify_draft(
    draft: str,
    passages: Sequence[Passage],
    texts: dict[str, str],
    embedder: Embedder,
    settings: Settings,
    prompt: PromptRef,
    all_passages: Sequence[Passage] | None = None,
) -> Answer:
    """The answer the draft supports. ``passages`` are the numbered ones the model saw;
    ``all_passages`` (default: the same) are reported in the answer."""
    reported = list(all_passages if all_passages is not None else passages)
    sentences = split_draft(draft)
    if not sentences:
        raise LLMEmpty("the LLM wrote no sentence")
    claims = [s for s in sentences if not _REFUSAL.search(s.text)]
    if not claims:  # the model says the passages do not answer
        refusal = " ".join(s.text for s in sentences)
        return Answer(answer=refusal, abstained=True, confidence=0.0, passages=reported,
                      mode="llm", sentences=[AnswerSentence(refusal, (), False)], prompt=prompt)

    supports = locate_support(claims, passages, texts, embedder)
    kept: list[AnswerSentence] = []
    scores: list[float] = []
    for claim, support in zip(claims, supports):
        if support is not None and support.supported:
            kept.append(AnswerSentence(claim.text, (support.citation,), True))
            scores.append(support.score)
        elif settings.llm_unsupported == "flag":
            kept.append(AnswerSentence(claim.text, (), False))
    if not scores:
        raise NoSupportedSentence("no sentence of the LLM's answer is supported by the passages")
    citations: list[Citation] = []
    for sentence in kept:
        citations.extend(c for c in sentence.citations if c not in citations)
    supported_share = len(scores) / len(claims)
    return Answer(
        answer=" ".join(s.text for s in kept),
        abstained=False,
        confidence=round(min(1.0, sum(scores) / len(scores)) * supported_share, 3),
        citations=citations,
        passages=reported,
        mode="llm",
        sentences=kept,
        prompt=prompt,
    )
