"""The ``factdesk`` command, run in-process on a temp data dir."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from tests.samples import SEED_ID, SEED_QUESTION, SEED_TITLE, SEEDS_DIR

pytestmark = pytest.mark.integration

SEED_FILE = SEEDS_DIR / f"{SEED_ID}.txt"


def use_data_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> CliRunner:
    monkeypatch.setenv("FACTDESK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    return CliRunner()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    yield
    get_settings.cache_clear()  # drop settings read from this test's environment


@pytest.fixture(scope="module")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the seed ingested through the CLI, shared by the read-only tests."""
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = use_data_dir(monkeypatch, data_dir).invoke(app, ["ingest", str(SEED_FILE)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:2] == ["created", SEED_ID]
    return data_dir


@pytest.fixture
def ingested(seeded_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return use_data_dir(monkeypatch, seeded_dir)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    return use_data_dir(monkeypatch, tmp_path / "data")


def test_ingest_then_documents_lists_it(ingested: CliRunner) -> None:
    listed = ingested.invoke(app, ["documents"])
    assert listed.exit_code == 0, listed.output
    assert SEED_ID in listed.stdout and SEED_TITLE in listed.stdout

    rows = json.loads(ingested.invoke(app, ["documents", "--json"]).stdout)
    assert [row["id"] for row in rows] == [SEED_ID]
    assert rows[0]["title"] == SEED_TITLE
    assert "text" not in rows[0]

    again = ingested.invoke(app, ["ingest", str(SEED_FILE)])
    assert again.exit_code == 0
    assert "unchanged" in again.stdout


def test_ask_json_prints_citations(ingested: CliRunner) -> None:
    from service.desk import Factdesk

    result = ingested.invoke(app, ["ask", SEED_QUESTION, "--json", "--top-k", "4"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["abstained"] is False
    assert answer["citations"]
    assert 1 <= len(answer["passages"]) <= 4
    text = Factdesk().get(SEED_ID).text  # the same data dir, from the environment
    for c in answer["citations"]:
        assert c["document_id"] == SEED_ID
        assert text[c["start"] : c["end"]] == c["quote"]


def test_ask_plain_prints_answer_and_citation(ingested: CliRunner) -> None:
    result = ingested.invoke(app, ["ask", SEED_QUESTION, "--top-k", "4"])
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout and SEED_ID in result.stdout
    assert "confidence" in result.stdout


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_empty_question_fails(runner: CliRunner, question: str) -> None:
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code != 0
    assert "question is empty" in result.stderr
    assert result.stdout == ""


def test_ingest_reports_a_bad_file_and_exits_non_zero(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    good = tmp_path / "seed.txt"
    shutil.copyfile(SEED_FILE, good)
    result = runner.invoke(app, ["ingest", str(bad), str(good)])
    assert result.exit_code == 1
    assert "broken.txt" in result.stderr and "UTF-8" in result.stderr
    assert "created" in result.stdout and "seed" in result.stdout


def test_summarize(ingested: CliRunner) -> None:
    result = ingested.invoke(app, ["summarize", SEED_ID, "--max-sentences", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert len(summary["sentences"]) == 2 and summary["mode"] == "offline"
    text = SEED_FILE.read_text(encoding="utf-8")  # every quote is the article's own sentence
    assert all(c["quote"] in text for s in summary["sentences"] for c in s["citations"])
    plain = ingested.invoke(app, ["summarize", "--question", "What did the Kremlin announce?"])
    assert plain.exit_code == 0, plain.output
    assert f"[{SEED_ID} " in plain.stdout


def test_summarize_needs_documents_or_a_question(ingested: CliRunner) -> None:
    result = ingested.invoke(app, ["summarize"])
    assert result.exit_code != 0
    assert "name documents, give --question, or filter" in result.output
    unknown = ingested.invoke(app, ["summarize", "no-such-doc"])
    assert unknown.exit_code != 0 and "no-such-doc" in unknown.output


def test_ingest_with_date_and_source_then_ask_with_filters(runner: CliRunner,
                                                          tmp_path: Path) -> None:
    older, newer = tmp_path / "storm-14.txt", tmp_path / "storm-17.txt"
    older.write_text("Storm Ingrid forced authorities to evacuate 1,200 homes along the Marrow "
                     "coast on Tuesday.", encoding="utf-8")
    newer.write_text("The number of homes evacuated because of Storm Ingrid has risen to "
                     "3,450, officials said on Friday.", encoding="utf-8")
    for path, published, source in [(older, "2026-10-14", "Coastal Herald"),
                                    (newer, "October 17, 2026", "Marrow Daily")]:
        result = runner.invoke(app, ["ingest", str(path), "--published", published,
                                     "--source", source])
        assert result.exit_code == 0, result.output
    question = "How many homes have been evacuated because of Storm Ingrid?"
    latest = runner.invoke(app, ["ask", question, "--mode", "offline", "--json"])
    assert latest.exit_code == 0, latest.output
    data = json.loads(latest.stdout)
    assert "3,450" in data["answer"] and data["as_of"] == "2026-10-17"
    assert data["citations"][0]["source"] == "Marrow Daily"
    then = runner.invoke(app, ["ask", question, "--mode", "offline", "--as-of", "2026-10-15"])
    assert then.exit_code == 0, then.output
    assert "1,200" in then.stdout and "as of 2026-10-14" in then.stdout
    herald = runner.invoke(app, ["ask", question, "--mode", "offline", "--json",
                                 "--source", "Coastal Herald"])
    assert {p["document_id"] for p in json.loads(herald.stdout)["passages"]} == {"storm-14"}
    bad = runner.invoke(app, ["ask", question, "--published-after", "soon"])
    assert bad.exit_code == 2 and "published_after 'soon' is not a date" in bad.output
    wrong_date = runner.invoke(app, ["ingest", str(older), "--published", "someday"])
    assert wrong_date.exit_code != 0 and "not a date" in wrong_date.output
