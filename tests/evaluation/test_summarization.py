"""`factdesk eval summarize`: ROUGE scoring, Lead-3, the SummEval run, a missing data file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from service.evaluation.command import EvalOptions, run_command
from service.evaluation.datasets import SUMMEVAL_PATH
from service.evaluation.summarization import (
    FACTDESK,
    LEAD3,
    SummEvalMissing,
    lead,
    load_summeval,
    mean_rouge,
    rouge_scorer,
    run_summarize_eval,
)
from tests.conftest import make_settings


def test_lead_takes_the_first_three_sentences() -> None:
    text = "One is here. Two is there. Three is near.\nFour is far. Five."
    assert lead(text) == "One is here. Two is there. Three is near."


def test_mean_rouge_over_references() -> None:
    score = rouge_scorer()
    same = mean_rouge(score, "The cat sat on the mat.", ["The cat sat on the mat."])
    assert same == pytest.approx({"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0})
    half = mean_rouge(score, "The cat sat on the mat.",
                      ["The cat sat on the mat.", "Dogs bark loudly at night."])
    assert half["rouge1"] == pytest.approx(0.5)
    stemmed = mean_rouge(score, "cats sitting", ["cat sits"])  # stemming on
    assert stemmed["rouge1"] == pytest.approx(1.0)


def test_missing_file_is_skipped_with_a_note(tmp_path: Path) -> None:
    with pytest.raises(SummEvalMissing):
        load_summeval(tmp_path / "summeval-dev.jsonl")
    console = Console(record=True, width=120)
    code = run_command(EvalOptions(datasets=["summarize"], report_dir=tmp_path / "reports",
                                   distractors=tmp_path / "summeval-dev.jsonl"), console)
    assert code == 0
    assert "not found; skipped" in console.export_text()
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(not SUMMEVAL_PATH.is_file(), reason=f"{SUMMEVAL_PATH} not found")
def test_summeval_run(tmp_path: Path) -> None:
    run = run_summarize_eval(SUMMEVAL_PATH, make_settings(tmp_path / "unused"), limit=2)
    summary = run.summary()
    systems = set(summary["rouge"])
    assert {FACTDESK, LEAD3} <= systems and len(systems) == 18  # and the 16 SummEval systems
    assert all(len(rows) == 2 for rows in run.scores.per_article.values())
    for means in summary["rouge"].values():
        assert 0 < means["rouge2"] < means["rouge1"] <= 1
    assert summary["citations"] >= 2 * 1 and summary["citation_exact"] == 1.0
    assert summary["unsupported_sentences"] == 0 and summary["fallbacks"] == 0


@pytest.mark.skipif(not SUMMEVAL_PATH.is_file(), reason=f"{SUMMEVAL_PATH} not found")
def test_command_writes_reports(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    code = run_command(EvalOptions(datasets=["summarize"], report_dir=tmp_path, limit=1),
                       console)
    assert code == 0
    report = json.loads(next(tmp_path.glob("summarize-*.json")).read_text())
    assert report["summary"]["articles"] == 1
    assert "| **lead-3** |" in next(tmp_path.glob("summarize-*.md")).read_text()
    assert "ROUGE-1" in console.export_text()
