"""Articles and store probes shared by the API, store and CLI tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # both load Chroma; unit tests that import this module should not
    from service.desk import Factdesk
    from service.store import StoredChunk

REPO = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO / "seeds"
SEED_ID = "000_60f6bed6cec462ff"
SEED_TITLE = "600 North Korean Troops Killed in Ukraine, South Korean Lawmaker Says"
SEED_AUTHOR = "Chris Summers"
# The article gives two death tolls, the spy agency's 300 of January and 600 of April; the
# question names the source, as the seed eval's seed-001 does (asked without it, the reader
# answers with January's figure: eval/README.md).
SEED_QUESTION = "How many North Korean soldiers have died, according to South Korea's spy agency?"
UNANSWERABLE_QUESTION = "Who won the 2022 World Cup?"

MARKDOWN_ARTICLE = """---
title: Harbour Bridge Reopens After Repairs
author: Dana Whitfield
date: 2025-03-14
---

# Harbour Bridge Reopens After Repairs

The Harbour Bridge in Port Ellery reopened to traffic on Friday after eleven months of repairs \
that cost 84 million dollars, the city council said.

Engineers replaced 312 steel cables and resurfaced the whole deck. Mayor Ines Calloway said the \
work finished two weeks ahead of schedule.

## Traffic

About 46,000 vehicles crossed the bridge each day before it closed for repairs.
"""

HTML_ARTICLE = """<!doctype html><html><head><title>Lighthouse Museum Opens in Carrow Bay</title>
<meta name="author" content="Tomas Rook"></head><body><article>
<h1>Lighthouse Museum Opens in Carrow Bay</h1>
<p>A museum devoted to the history of lighthouses opened in Carrow Bay on Saturday, drawing
2,300 visitors on its first day.</p>
<p>The museum occupies the old keeper's cottage, which was restored over three years at a cost
of 5 million euros.</p>
<p>Curator Maren Holt said the collection includes 140 lenses, the oldest of them made in
1823.</p>
</article></body></html>"""

TEXT_ARTICLE = """Orchard Growers Report Record Apple Harvest

Apple growers in the Vellan Valley picked 18,500 tonnes of fruit this autumn, the largest \
harvest since records began in 1961, the valley's growers' cooperative said on Tuesday.

The cooperative's chair, Odile Marchetti, said a mild spring and late rains had helped the \
orchards, and that 240 seasonal workers had been hired to bring the crop in.
"""


def long_article(topic_word: str, paragraphs: int = 12) -> str:
    """A plain-text article of several chunks in which ``topic_word`` appears in every paragraph."""
    body = "\n\n".join(
        f"In paragraph {n} the council discussed the {topic_word} again. Residents of ward {n} "
        f"asked how the {topic_word} would be paid for, and officials said a report on its cost, "
        f"its route and its timetable would be published before the end of month {n}. Several "
        f"speakers said the town had waited {n + 3} years for a decision on the matter."
        for n in range(1, paragraphs + 1)
    )
    return f"Town Council Debates the {topic_word.title()}\n\n{body}\n"


@dataclass(frozen=True)
class StoreCounts:
    """What a rejected request must leave untouched."""

    documents: int
    chunks: int
    lexical: int
    document_ids: tuple[str, ...]


def store_counts(desk: Factdesk) -> StoreCounts:
    return StoreCounts(
        documents=desk.store.documents.count(),
        chunks=desk.store.chunks.count(),
        lexical=len(desk.lexical),
        document_ids=tuple(a.id for a in desk.list()),
    )


def chunks_in_chroma(desk: Factdesk, document_id: str) -> list[StoredChunk]:
    """Every chunk record Chroma holds for a document, whatever its version."""
    from service.store.records import stored_chunk

    got = desk.store.chunks.get(
        where={"document_id": document_id}, include=["documents", "metadatas"]
    )
    found = [stored_chunk(cid, text, meta)
             for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])]
    return sorted(found, key=lambda s: s.chunk.index)


def lexical_ids_of(desk: Factdesk, document_id: str) -> set[str]:
    return {cid for cid in desk.lexical.chunk_ids() if cid.startswith(f"{document_id}:")}


PDF_TITLE = "Velmar harbour dredging to start in May"
PDF_BODY = (
    "The port authority of Velmar said on Monday that dredging of the inner harbour will begin "
    "on 12 May and cost 8.4 million euros, paid by the regional fishing fund. The work will take "
    "eleven weeks.\n"
    "Fishing boats will moor at the north quay while the dredgers work, the harbour master, "
    "Ines Vale, said.")
PDF_QUESTION = "How much will the dredging of Velmar's inner harbour cost?"


def pdf_article(title: str = PDF_TITLE, body: str = PDF_BODY, created: str = "2026-05-04"
                ) -> bytes:
    """A real PDF (written by fpdf2) with a text layer: the title line, then the body
    paragraphs, wrapped by the page width; its document information gives title, author and
    creation date."""
    from datetime import UTC, datetime

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author("Ines Vale")
    pdf.set_creation_date(datetime.fromisoformat(created).replace(tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, f"{title}\n\n{body}")
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A PDF with no text layer: a page holding only a drawn shape, as a scan holds an image."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 160, style="F")
    return bytes(pdf.output())
