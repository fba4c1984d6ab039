"""Markdown articles: front matter metadata and markup reduced to plain text."""

from __future__ import annotations

import pytest

from service.domain import ArticleFormat
from service.errors import InvalidInput
from service.parse import detect_format, parse_article

ARTICLE = """---
title: "Harbour Bridge Reopens"
author: Maria Lopez
date: 2025-03-14
url: https://coastaltimes.example/bridge
source: Coastal Times
---

# Harbour Bridge Reopens After *Repairs*

The bridge reopened on **Friday** after [eight months](https://example.com/timeline "Timeline")
of work, the city's _transport department_ said. ![Crowds on the bridge](crowd.jpg)

<!-- editor: check the cost figure -->

## What changed

* 120 steel cables were replaced
+ the deck was resurfaced
1. first inspection in 2027

> "It has been a long winter," said ~~one~~ a driver.

```
cost_total = 42_000_000  # *not* emphasis
```
"""


def test_front_matter_metadata() -> None:
    article = parse_article(ARTICLE, filename="bridge.md")
    assert article.title == "Harbour Bridge Reopens"
    assert article.author == "Maria Lopez"
    assert article.published == "2025-03-14"
    assert article.url == "https://coastaltimes.example/bridge"
    assert article.source == "Coastal Times"


def test_markup_is_reduced_to_text() -> None:
    text = parse_article(ARTICLE, "markdown").text
    assert text == (
        "Harbour Bridge Reopens After Repairs\n\n"
        "The bridge reopened on Friday after eight months of work, "
        "the city's transport department said.\n\n"
        "What changed\n\n"
        "- 120 steel cables were replaced\n"
        "- the deck was resurfaced\n"
        "1. first inspection in 2027\n\n"
        "\"It has been a long winter,\" said one a driver.\n\n"
        "cost_total = 42_000_000  # *not* emphasis"
    )


def test_markup_never_leaks() -> None:
    text = parse_article(ARTICLE, "markdown").text
    for leaked in ("#", "**", "](", "crowd.jpg", "editor:", "```", "---"):
        if leaked == "#":
            assert not any(line.startswith("#") for line in text.split("\n"))
        else:
            assert leaked not in text


def test_title_from_first_heading_without_front_matter() -> None:
    article = parse_article("Intro line.\n\n# The *Real* Title\n\nBody text.", "markdown")
    assert article.title == "The Real Title"
    assert article.text == "Intro line.\n\nThe Real Title\n\nBody text."


def test_detected_from_content() -> None:
    assert detect_format(ARTICLE) is ArticleFormat.MARKDOWN
    assert parse_article(ARTICLE).title == "Harbour Bridge Reopens"


def test_explicit_metadata_beats_front_matter() -> None:
    article = parse_article(ARTICLE, "markdown", title="Other", published="April 1, 2025")
    assert article.title == "Other"
    assert article.published == "2025-04-01"
    assert article.author == "Maria Lopez"


@pytest.mark.parametrize(
    "raw",
    [
        "---\ntitle: [unclosed\n---\nBody",
        "---\n- just\n- a list\n---\nBody",
        "---\ntitle: Never closed\n\nBody text.",
    ],
)
def test_malformed_front_matter_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidInput, match="front matter"):
        parse_article(raw, "markdown")


def test_escapes_and_inline_code_are_literal() -> None:
    article = parse_article(r"Use `a*b*c` and \*stars\* and snake_case_name.", "markdown")
    assert article.text == "Use a*b*c and *stars* and snake_case_name."


def test_markdown_output_is_stable_as_text() -> None:
    text = parse_article(ARTICLE, "markdown").text
    assert parse_article(text, "text").text == text
