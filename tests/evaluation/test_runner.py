"""The runner end to end: a tiny question set against a real embedded Factdesk (seed only)."""

import json
from pathlib import Path

import pytest
import yaml

from service.evaluation.datasets import REPO, EvalQuestion, load_dataset
from service.evaluation.report import write_reports
from service.evaluation.runner import ask_and_score, run_eval
from service.evaluation.targets import EmbeddedTarget

pytestmark = pytest.mark.integration

QUESTIONS = [
    {"id": "seed-001", "question": "How many North Korean soldiers have died in the war in "
     "Ukraine, according to South Korea's spy agency?", "answers": ["600", "600 deaths"],
     "quote": "North Korea has suffered 4,700 casualties, including 600 deaths",
     "type": "number", "answerable": True, "difficulty": "easy"},
    {"id": "seed-005", "question": "On what date did North Korea confirm for the first time "
     "that it had sent combat troops to fight for Russia?", "answers": ["April 28"],
     "quote": "North Korea confirmed, for the first time, on April 28 that it had sent combat "
     "troops to the Kursk region", "type": "date", "answerable": True, "difficulty": "easy"},
    {"id": "seed-006", "question": "To which region did North Korea say it had sent combat "
     "troops?", "answers": ["Kursk", "Kursk region"],
     "quote": "it had sent combat troops to the Kursk region", "type": "place",
     "answerable": True, "difficulty": "easy"},
    {"id": "seed-900", "question": "What was the name of the North Korean general who led the "
     "troops in Kursk?", "answers": [], "quote": None, "type": "person", "answerable": False,
     "difficulty": "hard"},
]


@pytest.fixture
def dataset_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    data = {"article": "seeds/000_60f6bed6cec462ff.txt", "version": 1, "questions": QUESTIONS}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def target():
    embedded = EmbeddedTarget()  # a fresh temporary store
    yield embedded
    embedded.close()


def test_runner_writes_reports_with_every_field(
    target: EmbeddedTarget, dataset_file: Path, tmp_path: Path
) -> None:
    run = run_eval(target, load_dataset(str(dataset_file)), distractors=None,
                   settings={"mode": "offline"})
    json_path, md_path = write_reports(run, tmp_path / "reports")

    assert json_path.name.startswith("tiny-") and json_path.is_file() and md_path.is_file()
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["dataset"] == "tiny"
    assert report["article_id"] == "000_60f6bed6cec462ff"
    assert {"chunk_tokens", "retrieval", "mode", "top_k"} <= report["settings"].keys()
    assert report["settings"]["retrieval"] == "hybrid"
    summary = report["summary"]
    for metric in ("em", "f1", "contains_gold", "citation_support", "citation_exact",
                   "recall_at_5", "mrr_at_10", "abstention_precision", "abstention_recall",
                   "answered_unanswerable_rate", "wrongly_abstained_rate", "latency_p50_ms",
                   "latency_p95_ms", "errors"):
        assert metric in summary
    assert summary["questions"] == 4 and summary["unanswerable"] == 1
    assert summary["errors"] == 0
    assert summary["citation_exact"] in (None, 1.0)
    assert set(report["by_type"]) == {"number", "date", "place", "person"}

    questions = report["questions"]
    assert [q["id"] for q in questions] == [q["id"] for q in QUESTIONS]
    for q in questions:
        assert {"question", "expected", "answer", "abstained", "confidence", "citations",
                "passages", "latency_ms", "error", "scores"} <= q.keys()
        assert q["passages"], "every question retrieves passages"
    answerable = [q for q in questions if q["answerable"]]
    # The seed is the only article, so the supporting chunk is always retrieved.
    assert all(q["scores"]["supporting_rank"] is not None for q in answerable)
    markdown = md_path.read_text(encoding="utf-8")
    assert "## Failures" in markdown and "## Failure breakdown" in markdown
    assert set(report["failures"]) == {"unanswerable_answered", "wrongly_abstained",
                                       "stale_figure", "wrong_type", "wrong_entity",
                                       "citation_not_exact", "citation_unsupported", "error"}
    failed = sum(1 for q in questions
                 if q["error"] or (q["answerable"] != (not q["abstained"]))
                 or (q["answerable"] and not q["scores"]["contains_gold"])
                 or (q["answerable"] and not q["scores"]["citation_support"]))
    assert sum(report["failures"].values()) == failed
    for kind in ("reliability", "risk-coverage"):
        plot = md_path.with_name(f"{md_path.stem}-{kind}.png")
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", kind
        assert f"]({plot.name})" in markdown
    for metric in ("answered_precision", "coverage", "confidence_auroc", "confidence_ece",
                   "risk_coverage_area"):
        assert metric in summary


def test_a_failed_call_is_recorded_and_scored_as_wrong(target: EmbeddedTarget) -> None:
    article_id = target.ingest_file(REPO / "seeds" / "000_60f6bed6cec462ff.txt")
    too_long = EvalQuestion(id="seed-901", question="Why? " * 1000, answers=("600",),
                            quote=None, type="number", answerable=True, difficulty="easy")
    result = ask_and_score(target, too_long, article_id, target.document_text(article_id), 8)
    assert result.error is not None and "InvalidInput" in result.error
    assert result.scores.contains_gold is False and result.scores.citation_support is False
