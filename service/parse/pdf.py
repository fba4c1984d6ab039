"""PDF articles: the text layer, read with pypdf.

Each page's lines are rejoined where the PDF only wrapped them (a line running on in lower
case), the pages are joined by blank lines, and the result is read like a plain-text article
(title line, byline and date lines, body): the stored text is that extracted text, and every
citation offset points into it. The PDF's document information gives the title, author and date when
the text does not. A PDF without a text layer (a scan) is refused: factdesk does not OCR.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from service.domain import ParsedArticle
from service.errors import EmptyDocument, InvalidInput
from service.parse.text import parse_text
from service.text_rules import without_refused

PDF_MAGIC = b"%PDF-"


def is_pdf(raw: str | bytes) -> bool:
    """The bytes of a PDF file (by its header, which may follow a little whitespace)."""
    return isinstance(raw, bytes) and raw[:1024].lstrip().startswith(PDF_MAGIC)


def parse_pdf(raw: str | bytes) -> ParsedArticle:
    if not isinstance(raw, bytes):
        raise InvalidInput("A PDF must be sent as a file (POST /v1/documents/upload), not as "
                           "JSON text.")
    if not is_pdf(raw):
        raise InvalidInput("The file is not a PDF: it does not start with %PDF-.")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings on odd files are noise
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput("The PDF is encrypted with a password; send it decrypted.")
        pages = [unwrap((page.extract_text() or "").strip()) for page in reader.pages]
        info = reader.metadata
        title, author = _info(info, "title"), _info(info, "author")
        created = info.creation_date if info is not None else None
    except PyPdfError as error:
        raise InvalidInput(f"The PDF could not be read: {error}") from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # a damaged file
        raise InvalidInput(f"The PDF could not be read ({type(error).__name__}).") from error
    # A text layer may hold stray control characters: they are not text (text_rules.py).
    text = "\n\n".join(without_refused(page) for page in pages if page)
    if not text:
        raise EmptyDocument(
            f"The PDF has no text layer ({len(pages)} page(s) of images, a scan?); factdesk "
            "reads a PDF's text and does not OCR it.")
    parsed = parse_text(text)
    return replace(
        parsed,
        title=parsed.title or title or "",
        author=parsed.author or author,
        published=parsed.published or (created.date().isoformat() if created else None),
        format="pdf",
    )


# A line the PDF wrapped: the next one runs on in lower case, or with a digit or a closing mark.
_WRAPPED = re.compile(r"(?<=\S)[ \t]*\n[ \t]*(?=[a-z0-9,;:)\]%’”])")


def unwrap(page: str) -> str:
    """A page's text with its wrapped lines rejoined; a line that ends one statement and one
    that starts another with a capital stay apart."""
    return _WRAPPED.sub(" ", page)


def _info(info: object, name: str) -> str | None:
    value = getattr(info, name, None) if info is not None else None
    value = " ".join(str(value).split()) if value else ""
    return value or None
