"""PDF articles (real PDFs written by fpdf2): their text layer is the stored text, citations
point into it, and a PDF without text or a damaged one is refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import get_settings
from service.errors import EmptyDocument, InvalidInput
from service.parse import detect_format, parse_article
from service.parse.pdf import unwrap
from tests.samples import PDF_BODY, PDF_QUESTION, PDF_TITLE, pdf_article, scanned_pdf


def test_a_pdf_is_read_as_its_text_with_its_document_information() -> None:
    parsed = parse_article(pdf_article())
    assert parsed.format == "pdf"
    assert parsed.title == PDF_TITLE
    assert parsed.author == "Ines Vale" and parsed.published == "2026-05-04"
    # The page wrapped the paragraphs; the stored text has them whole, as written.
    for paragraph in PDF_BODY.split("\n"):
        assert paragraph in parsed.text


def test_explicit_metadata_overrides_the_pdfs() -> None:
    parsed = parse_article(pdf_article(), filename="dredging.pdf", title="Dredging",
                           published="2026-05-06", source="Velmar Post")
    assert (parsed.title, parsed.published, parsed.source) == (
        "Dredging", "2026-05-06", "Velmar Post")


def test_a_pdf_is_told_by_its_header_or_its_name() -> None:
    assert detect_format(pdf_article()).value == "pdf"
    assert detect_format(b"%PDF-1.7", "x.pdf").value == "pdf"


def test_unwrap_joins_wrapped_lines_only() -> None:
    assert unwrap("will begin on 12 May\nand cost 8.4 million") == (
        "will begin on 12 May and cost 8.4 million")
    assert unwrap("The work will take weeks.\nFishing boats") == (
        "The work will take weeks.\nFishing boats")


@pytest.mark.parametrize(("raw", "error", "words"), [
    (scanned_pdf(), EmptyDocument, ["no text layer", "OCR"]),
    (b"%PDF-1.7\n1 0 obj garbage", InvalidInput, ["could not be read"]),
    (pdf_article()[:300], InvalidInput, ["could not be read"]),
    ("%PDF-1.7 sent as text", InvalidInput, ["as a file"]),
])
def test_bad_pdfs_are_refused_clearly(raw: bytes | str, error: type, words: list[str]) -> None:
    with pytest.raises(error) as raised:
        parse_article(raw, "pdf")
    for word in words:
        assert word in raised.value.message


@pytest.mark.integration
def test_an_uploaded_pdf_answers_with_an_exact_citation(fresh_client: TestClient) -> None:
    reply = fresh_client.post("/v1/documents/upload",
                              files={"file": ("dredging.pdf", pdf_article(), "application/pdf")},
                              data={"source": "Velmar Post"})
    assert reply.status_code == 200, reply.text
    doc_id = reply.json()["id"]
    stored = fresh_client.get(f"/v1/documents/{doc_id}").json()
    assert stored["format"] == "pdf" and stored["published"] == "2026-05-04"
    answer = fresh_client.post("/v1/ask", json={"question": PDF_QUESTION,
                                                "mode": "offline"}).json()
    assert "8.4 million euros" in answer["answer"]
    cited = answer["citations"][0]
    assert stored["text"][cited["start"]:cited["end"]] == cited["quote"]
    assert cited["source"] == "Velmar Post"


@pytest.mark.integration
def test_the_cli_ingests_a_pdf_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setenv("FACTDESK_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        (tmp_path / "dredging.pdf").write_bytes(pdf_article())
        (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
        runner = CliRunner()
        result = runner.invoke(app, ["ingest", str(tmp_path / "dredging.pdf"),
                                     str(tmp_path / "scan.pdf")])
        assert result.exit_code == 1  # the scan failed, said so; the other went in
        assert "scan.pdf" in result.stderr and "no text layer" in result.stderr
        assert result.stdout.split()[:2] == ["created", "dredging"]
        asked = runner.invoke(app, ["ask", PDF_QUESTION, "--mode", "offline", "--json"])
        answer = json.loads(asked.stdout)
        assert "8.4 million euros" in answer["answer"]
        assert answer["citations"][0]["document_id"] == "dredging"
    finally:
        get_settings.cache_clear()
