"""`factdesk eval summarize`: ROUGE of factdesk's summaries on SummEval, beside Lead-3 and the
16 SummEval systems, all scored the same way in the same run.

Each of the 53 CNN/DailyMail articles is ingested into a fresh store and summarized by the
desk (three sentences, the default). Lead-3 is the first three sentences of the same stored
text, cut by the same sentence splitter. Every summary is scored with rouge-score (ROUGE-1,
ROUGE-2, ROUGE-L F1, Porter stemming) against each of the article's 11 references; the
article's score is the mean over the references, the system's score the mean over articles.
Every citation of factdesk's summaries is checked against the stored text.
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.config import Settings
from service.desk import Factdesk
from service.sentences import sentence_spans
from service.verify.citations import verify_citation

METRICS = ("rouge1", "rouge2", "rougeL")
FACTDESK = "factdesk"
LEAD3 = "lead-3"


class SummEvalMissing(Exception):
    """The SummEval file is absent: the summarization eval is skipped."""


@dataclass
class SummaryScores:
    """Per system: the mean ROUGE F1 per article, in the order of the articles."""

    per_article: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    def add(self, system: str, scores: dict[str, float]) -> None:
        self.per_article.setdefault(system, []).append(scores)

    def means(self) -> dict[str, dict[str, float]]:
        return {
            system: {m: round(statistics.fmean(a[m] for a in rows), 4) for m in METRICS}
            for system, rows in self.per_article.items()
        }


@dataclass
class SummarizeRun:
    mode: str
    articles: int
    scores: SummaryScores
    citations: int = 0
    citations_exact: int = 0
    unsupported_sentences: int = 0
    fallbacks: int = 0
    words: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        means = self.scores.means()
        ranked = sorted(means.items(), key=lambda kv: kv[1]["rouge1"], reverse=True)
        return {
            "articles": self.articles,
            "mode": self.mode,
            "rouge": dict(ranked),
            "citations": self.citations,
            "citation_exact": round(self.citations_exact / self.citations, 4)
            if self.citations else None,
            "unsupported_sentences": self.unsupported_sentences,
            "fallbacks": self.fallbacks,
            "mean_words": round(statistics.fmean(self.words), 1) if self.words else None,
            "latency_p50_ms": round(statistics.median(self.latencies_ms), 1)
            if self.latencies_ms else None,
        }


def load_summeval(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise SummEvalMissing(f"summarize: {path} not found; skipped")
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def rouge_scorer() -> Callable[[str, str], dict[str, float]]:
    from rouge_score import rouge_scorer as rs

    scorer = rs.RougeScorer(list(METRICS), use_stemmer=True)

    def score(reference: str, summary: str) -> dict[str, float]:
        found = scorer.score(reference, summary)
        return {m: found[m].fmeasure for m in METRICS}

    return score


def mean_rouge(score: Callable[[str, str], dict[str, float]], summary: str,
               references: Sequence[str]) -> dict[str, float]:
    rows = [score(reference, summary) for reference in references]
    return {m: statistics.fmean(r[m] for r in rows) for m in METRICS}


def lead(text: str, sentences: int = 3) -> str:
    return " ".join(text[s:e] for s, e in sentence_spans(text)[:sentences])


def run_summarize_eval(
    path: Path,
    settings: Settings | None = None,
    mode: str = "offline",
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SummarizeRun:
    items = load_summeval(path)[:limit]
    score = rouge_scorer()
    with tempfile.TemporaryDirectory(prefix="factdesk-summeval-") as folder:
        from service.config import get_settings

        base = settings or get_settings()
        desk = Factdesk(base.model_copy(update={"data_dir": Path(folder), "chroma_url": None}))
        run = SummarizeRun(mode=mode, articles=len(items), scores=SummaryScores())
        for number, item in enumerate(items, 1):
            doc_id = re.sub(r"[^A-Za-z0-9_.\-]+", "-", str(item["id"])).strip("-.")[:128]
            desk.ingest(item["article"], "text", document_id=doc_id)
            text = desk.get(doc_id).text
            started = time.perf_counter()
            summary = desk.summarize([doc_id], mode=mode)
            run.latencies_ms.append((time.perf_counter() - started) * 1000)
            references = item["references"]
            run.scores.add(FACTDESK, mean_rouge(score, summary.summary, references))
            run.scores.add(LEAD3, mean_rouge(score, lead(text), references))
            for name, system in sorted(item.get("systems", {}).items()):
                run.scores.add(name, mean_rouge(score, system["summary"], references))
            run.words.append(len(summary.summary.split()))
            run.fallbacks += summary.fallback_reason is not None
            for sentence in summary.sentences:
                run.unsupported_sentences += not sentence.supported
                for citation in sentence.citations:
                    run.citations += 1
                    run.citations_exact += verify_citation(citation, text)
            if number <= 5:
                run.samples.append({"id": doc_id, "summary": summary.summary,
                                    "mode": summary.mode,
                                    "fallback_reason": summary.fallback_reason})
            if progress:
                progress(number, len(items))
    return run


def markdown_report(run: SummarizeRun) -> str:
    summary = run.summary()
    lines = [
        "# factdesk eval: summarize (SummEval)",
        "",
        f"{summary['articles']} articles, mode {summary['mode']}. ROUGE F1 with stemming, the "
        "mean over the 11 references of an article, then over articles. Lead-3 is the first "
        "three sentences of the stored text; M0-M23 are the SummEval systems.",
        "",
        "| system | ROUGE-1 | ROUGE-2 | ROUGE-L |",
        "|---|---|---|---|",
    ]
    for system, means in summary["rouge"].items():
        name = f"**{system}**" if system in (FACTDESK, LEAD3) else system
        lines.append(f"| {name} | {means['rouge1']:.4f} | {means['rouge2']:.4f} | "
                     f"{means['rougeL']:.4f} |")
    lines += [
        "",
        f"- citations: {summary['citations']}, exact: {summary['citation_exact']}",
        f"- unsupported sentences: {summary['unsupported_sentences']}; "
        f"fallbacks to the offline summary: {summary['fallbacks']}",
        f"- mean words per summary: {summary['mean_words']}; "
        f"latency p50: {summary['latency_p50_ms']} ms",
        "",
    ]
    return "\n".join(lines)
