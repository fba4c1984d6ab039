"""``factdesk ingest --url``: a PDF (sent as a file, read by the server) and an RSS feed's
entries go to a running service, which answers from them with exact citations."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.serve import ServeProcess, serve_command, serve_env
from tests.samples import PDF_QUESTION, pdf_article, scanned_pdf
from tests.test_feeds import rss

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    folder = tmp_path_factory.mktemp("remote-ingest")
    process = ServeProcess(folder / "serve.log",
                           serve_env(FACTDESK_DATA_DIR=str(folder / "data"))).wait_ready()
    try:
        yield process
    finally:
        process.stop()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*serve_command()[:-1], *args], env=serve_env(), capture_output=True,
                          text=True, timeout=300, check=False)


def ask(server: ServeProcess, question: str) -> dict:
    reply = httpx.post(f"{server.url}/v1/ask", json={"question": question, "mode": "offline"},
                       timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_pdf_and_a_feed_ingest_through_a_running_service(server: ServeProcess,
                                                           tmp_path: Path) -> None:
    (tmp_path / "dredging.pdf").write_bytes(pdf_article())
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
    (tmp_path / "velmar.rss").write_text(rss("https://velmar.example"), encoding="utf-8")
    result = cli("ingest", str(tmp_path / "dredging.pdf"), str(tmp_path / "scan.pdf"),
                 str(tmp_path / "velmar.rss"), "--since", "2026-05-01", "--url", server.url)
    assert result.returncode == 1  # the scan and the text-less entry failed, each said so
    assert "scan.pdf" in result.stderr and "no text layer" in result.stderr
    assert "market.html" in result.stderr
    assert result.stdout.count("created") == 3  # the PDF and two entries

    stored = httpx.get(f"{server.url}/v1/documents/dredging", timeout=30).json()
    assert stored["format"] == "pdf"
    answer = ask(server, PDF_QUESTION)  # the PDF and the feed's first entry both say it
    assert "8.4 million euros" in answer["answer"]
    for cited in answer["citations"]:
        text = httpx.get(f"{server.url}/v1/documents/{cited['document_id']}", timeout=30
                         ).json()["text"]
        assert text[cited["start"]:cited["end"]] == cited["quote"]
    assert "dredging" in {c["document_id"] for c in answer["citations"] + answer["supersedes"]
                          } | {p["document_id"] for p in answer["passages"]}

    ferry = ask(server, "How many passengers will the Velmar night ferry carry?")
    assert "240" in ferry["answer"]
    assert ferry["citations"][0]["url"] == "https://velmar.example/ferry"
    assert ferry["citations"][0]["source"] == "Velmar Post"
