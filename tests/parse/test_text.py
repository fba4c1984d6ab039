"""Plain text parsing, page-dump cleanup, and the parse_article contract shared by formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.domain import ArticleFormat
from service.errors import EmptyDocument, InvalidInput, UnsupportedFormat
from service.parse import detect_format, parse_article

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_60f6bed6cec462ff.txt"
SEED_TITLE = "600 North Korean Troops Killed in Ukraine, South Korean Lawmaker Says"

ORDINARY = """City Council Approves New Budget

The city council voted 7-2 on Tuesday to approve a budget of 310 million dollars for next year.
Most of the increase goes to road repairs and two new libraries.

Council member Ana Ruiz said the vote was the result of months of negotiation.

Jane Smith
Budget Details
The full budget will be published on the city's website next week."""


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


def test_seed_metadata(seed: str) -> None:
    article = parse_article(seed, filename=SEED.name)
    assert article.title == SEED_TITLE
    assert article.author == "Chris Summers"
    assert article.published == "2025-04-30"


def test_seed_text_keeps_body_and_drops_furniture(seed: str) -> None:
    text = parse_article(seed).text
    assert "North Korea has suffered 4,700 casualties, including 600 deaths" in text
    assert "South Korea’s National Intelligence Service has stated" in text  # the dek
    assert "No Sign of Payment for Missiles" in text
    assert text.endswith("The Associated Press and Reuters contributed to this report.")
    assert "Updated:" not in text
    assert "0:00" not in text.split("\n")
    assert "Ahn Young-joon/AP" not in text
    assert "UK-based journalist" not in text
    assert text.count(SEED_TITLE) == 1


def test_seed_furniture_keeps_caption_and_bio(seed: str) -> None:
    furniture = parse_article(seed).furniture
    assert any(item.endswith("Ahn Young-joon/AP") for item in furniture)
    assert any(item.startswith("Chris Summers is a UK-based journalist") for item in furniture)


def test_seed_is_detected_as_text(seed: str) -> None:
    assert detect_format(seed) is ArticleFormat.TEXT


def test_ordinary_text_is_unchanged() -> None:
    article = parse_article(ORDINARY, "text")
    assert article.text == ORDINARY
    assert article.title == "City Council Approves New Budget"
    assert article.author is None
    assert article.published is None
    assert article.furniture == ()


def test_single_paragraph_gets_first_sentence_title() -> None:
    paragraph = (
        "Heavy rain flooded the lower town overnight, forcing dozens of families to leave their "
        "homes before dawn. Rescue teams used boats to reach the worst-hit streets."
    )
    article = parse_article(paragraph)
    assert article.text == paragraph
    assert article.title == (
        "Heavy rain flooded the lower town overnight, forcing dozens of families to leave "
        "their homes before dawn."
    )


def test_whitespace_is_normalised() -> None:
    raw = "Title line  \r\n\r\nFirst paragraph.\t \r\n\r\n\r\n\r\nSecond paragraph.\r\n  \r\n"
    article = parse_article(raw.encode("utf-8"))
    assert article.text == "Title line\n\nFirst paragraph.\n\nSecond paragraph."


def test_bom_is_stripped() -> None:
    assert parse_article("\ufeffHello there.".encode()).text == "Hello there."


def test_non_utf8_bytes_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        parse_article("Café au lait".encode("latin-1"))


@pytest.mark.parametrize("raw", ["", "   \n\t\n", b"", b"\xef\xbb\xbf  \n"])
def test_empty_documents_are_rejected(raw: str | bytes) -> None:
    with pytest.raises(EmptyDocument):
        parse_article(raw)


def test_unknown_format_names_supported_ones() -> None:
    with pytest.raises(UnsupportedFormat, match="text, markdown, html, pdf"):
        parse_article("Some text.", "docx")


def test_format_names_are_case_insensitive() -> None:
    assert parse_article("Some text.", "TEXT").text == "Some text."
    assert parse_article("Some text.", ArticleFormat.TEXT).text == "Some text."


def test_header_stamp_date_and_by_line() -> None:
    raw = (
        "Harbour Bridge Reopens\n"
        "By Maria Lopez\n"
        "Updated: March 14, 2025 10:00 AM\n"
        "Share\n"
        "Print\n\n"
        "The Harbour Bridge reopened to traffic on Friday morning after eight months of repairs."
    )
    article = parse_article(raw)
    assert article.author == "Maria Lopez"
    assert article.published == "2025-03-14"
    assert article.text == (
        "Harbour Bridge Reopens\n\n"
        "The Harbour Bridge reopened to traffic on Friday morning after eight months of repairs."
    )


def test_bio_without_confirmation_is_kept() -> None:
    raw = "A short report.\n\nThe body of the report is here.\n\nJane Smith is a reporter."
    assert parse_article(raw).text == raw


def test_no_date_is_invented_for_ordinary_text() -> None:
    raw = "Spring Fair\n\nThe spring fair opens on April 30 in the town square, organisers said."
    assert parse_article(raw).published is None


def test_explicit_metadata_overrides(seed: str) -> None:
    article = parse_article(
        seed,
        title="Custom title",
        author="Someone Else",
        published="1 May 2025",
        url="https://example.com/a",
        source="Example",
    )
    assert article.title == "Custom title"
    assert article.author == "Someone Else"
    assert article.published == "2025-05-01"
    assert article.url == "https://example.com/a"
    assert article.source == "Example"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-04-30", "2025-04-30"),
        ("2025-04-30T10:00:00Z", "2025-04-30"),
        ("April 30, 2025", "2025-04-30"),
        ("30 April 2025", "2025-04-30"),
        ("Wednesday, April 30, 2025", "2025-04-30"),
    ],
)
def test_explicit_published_is_normalised(given: str, expected: str) -> None:
    assert parse_article("Some text.", published=given).published == expected


def test_unparseable_published_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="published"):
        parse_article("Some text.", published="sometime soon")


def test_title_falls_back_to_filename_stem() -> None:
    assert parse_article("--- *** ---", "text", filename="notes/flood-report.txt").title == (
        "flood-report"
    )


@pytest.mark.parametrize(
    ("raw", "filename", "expected"),
    [
        ("anything", "a.txt", ArticleFormat.TEXT),
        ("anything", "a.MD", ArticleFormat.MARKDOWN),
        ("anything", "a.markdown", ArticleFormat.MARKDOWN),
        ("anything", "a.htm", ArticleFormat.HTML),
        ("<!DOCTYPE html><html><body><p>x</p></body></html>", None, ArticleFormat.HTML),
        ("<p>One</p><p>Two</p><p>Three</p>", "upload.bin", ArticleFormat.HTML),
        ("---\ntitle: X\n---\nBody", None, ArticleFormat.MARKDOWN),
        ("Intro\n\n## Section\n\nBody", None, ArticleFormat.MARKDOWN),
        ("See [the report](https://example.com/r) for more.", None, ArticleFormat.MARKDOWN),
        ("Just a plain sentence about 3 < 4.", None, ArticleFormat.TEXT),
        (b"Plain bytes.", None, ArticleFormat.TEXT),
    ],
)
def test_detect_format(raw: str | bytes, filename: str | None, expected: ArticleFormat) -> None:
    assert detect_format(raw, filename) is expected


def test_parsing_is_deterministic_and_idempotent(seed: str) -> None:
    first = parse_article(seed)
    assert parse_article(seed).text == first.text
    again = parse_article(first.text, "text")
    assert again.text == first.text
    assert again.title == first.title
    assert parse_article(ORDINARY).text == parse_article(parse_article(ORDINARY).text).text
