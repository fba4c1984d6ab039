"""Eval reports: JSON with everything, Markdown for people, and deltas against an old report."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.evaluation import trust
from service.evaluation.failures import failure_breakdown, failure_class
from service.evaluation.plots import write_trust_plots
from service.evaluation.results import QuestionResult
from service.evaluation.runner import EvalRun
from service.evaluation.summary import Summary

# Metrics where a smaller value is the better one.
LOWER_IS_BETTER = {
    "errors", "quotes_not_found", "answered_unanswerable_rate", "wrongly_abstained_rate",
    "latency_p50_ms", "latency_p95_ms", "confidence_ece", "risk_coverage_area",
}
# Counts that describe the set rather than measure the service.
SET_SIZE = {"questions", "answerable", "unanswerable", "citations"}
# Per-group columns: short titles, so the table fits an 80-column terminal.
GROUP_COLUMNS = [
    ("n", "questions"), ("EM", "em"), ("F1", "f1"), ("gold", "contains_gold"),
    ("supp", "citation_support"), ("R@5", "recall_at_5"), ("MRR", "mrr_at_10"),
    ("abst", "abstention_recall"), ("wr.ab", "wrongly_abstained_rate"), ("err", "errors"),
]
MAX_QUOTE_CHARS = 220


def write_reports(run: EvalRun, directory: Path) -> tuple[Path, Path]:
    """``STEM.json``, ``STEM.md`` and the trust plots the Markdown links to."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{run.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    json_path = directory / f"{stem}.json"
    md_path = directory / f"{stem}.md"
    report = {**asdict(run), "failures": failure_breakdown(run.questions)}
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    plots = write_trust_plots(run.questions, directory, stem)
    md_path.write_text(markdown_report(run, [p.name for p in plots]), encoding="utf-8")
    return json_path, md_path


def load_summary(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    summary: dict[str, Any] = data["summary"]
    return summary


def format_value(name: str, value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if name.endswith("_ms"):
        return f"{value:.0f} ms"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


# ---- comparison ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    metric: str
    old: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return round(self.new - self.old, 4)

    @property
    def improved(self) -> bool | None:
        change = self.change
        if not change or self.metric in SET_SIZE:
            return None
        return change < 0 if self.metric in LOWER_IS_BETTER else change > 0


def compare_summaries(old: dict[str, Any], new: Summary) -> list[Delta]:
    current = asdict(new)
    return [Delta(name, old.get(name), value) for name, value in current.items()]


# ---- Markdown ------------------------------------------------------------------------------


def markdown_report(run: EvalRun, plots: list[str] | None = None) -> str:
    settings = ", ".join(f"{k} {v}" for k, v in run.settings.items() if v is not None)
    lines = [
        f"# Eval: {run.dataset} ({run.started})",
        "",
        f"Dataset `{run.dataset_path}`, article `{run.article_id}`. Settings: {settings}.",
        *(f"- {note}" for note in run.notes),
        "",
        "## Summary",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {k} | {format_value(k, v)} |" for k, v in asdict(run.summary).items()),
        "",
        f"Answered by: {_modes(run)}.",
        "",
        "## By type",
        "",
        "gold: contains_gold, supp: citation_support, R@5: recall_at_5, MRR: mrr_at_10, "
        "abst: abstention_recall, wr.ab: wrongly_abstained_rate, err: errors.",
        "",
        *_group_table("type", run.by_type),
        "",
        *(["## By difficulty", "", *_group_table("difficulty", run.by_difficulty), ""]
          if run.by_difficulty else []),
        *_trust_section(run, plots or []),
        "## Failures",
        "",
    ]
    failures = [(r, f"error: {r.error}" if why == "error" else why)
                for r in run.questions if (why := failure_class(r))]
    if failures:
        lines += ["| id | question | expected | got | cited quote | why |",
                  "|---|---|---|---|---|---|"]
        lines += [_failure_row(r, why) for r, why in failures]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _trust_section(run: EvalRun, plots: list[str]) -> list[str]:
    """Failure classes, the reliability table and links to the plots."""
    lines = ["## Failure breakdown", "", "| class | questions |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in failure_breakdown(run.questions).items()]
    lines.append("")
    items = trust.judged(run.questions)
    bins = [b for b in trust.reliability(items) if b.answers]
    if bins:
        lines += ["## Reliability", "",
                  "Answers given, by confidence: how many, their mean confidence and the share "
                  "that contain the gold answer.", "",
                  "| confidence | answers | mean confidence | share right |", "|---|---|---|---|"]
        lines += [f"| {b.low:.1f}–{b.high:.1f} | {b.answers} | {format_value('', b.mean_confidence)}"
                  f" | {format_value('', b.share_right)} |" for b in bins]
        lines.append("")
    lines += [f"![{name}]({name})" for name in plots]
    return [*lines, ""] if plots else lines


def _modes(run: EvalRun) -> str:
    """How many answers each mode gave, and why the LLM's answers were not used."""
    modes = Counter(r.mode for r in run.questions if r.mode)
    reasons = Counter(r.fallback_reason for r in run.questions if r.fallback_reason)
    said = ", ".join(f"{mode} {n}" for mode, n in modes.most_common()) or "nothing"
    if reasons:
        said += " (fell back: " + ", ".join(f"{k} {n}" for k, n in reasons.most_common()) + ")"
    return said


def _group_table(label: str, groups: dict[str, Summary]) -> list[str]:
    header = f"| {label} | " + " | ".join(title for title, _ in GROUP_COLUMNS) + " |"
    rule = "|---" * (len(GROUP_COLUMNS) + 1) + "|"
    rows = []
    for name, summary in groups.items():
        values = asdict(summary)
        cells = " | ".join(format_value(key, values[key], 2) for _, key in GROUP_COLUMNS)
        rows.append(f"| {name} | {cells} |")
    return [header, rule, *rows]


def _failure_row(result: QuestionResult, why: str) -> str:
    expected = " / ".join(result.expected) if result.expected else "(abstain)"
    got = "(abstained)" if result.abstained else result.answer
    quote = result.citations[0].quote if result.citations else ""
    if len(quote) > MAX_QUOTE_CHARS:
        quote = quote[:MAX_QUOTE_CHARS] + "…"
    cells = [result.id, result.question, expected, got, quote, why]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
