"""What text factdesk accepts, at every door: the same rule for every field of every route,
the command line and the files it ingests.

Refused, with the field and the position of the first offending character:

- lone surrogates (U+D800 to U+DFFF): not characters at all; JSON's ``"\\ud800"`` makes one;
- control characters (U+0000 to U+001F and U+007F to U+009F), NUL among them, except tab,
  newline and carriage return (a line end of CRLF files);
- the noncharacters of the Basic Multilingual Plane (U+FDD0 to U+FDEF, U+FFFE, U+FFFF).

Everything else in Unicode is text, right-to-left marks and 4-byte characters included.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from service.errors import InvalidInput

# One character class, in the syntax both Python and JSON Schema (ECMA-262) read: the OpenAPI
# schema declares it as the ``pattern`` of every text field (service/api/schemas.py).
REFUSED_CLASS = ("\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
                 "\\ud800-\\udfff\\ufdd0-\\ufdef\\ufffe\\uffff")
TEXT_PATTERN = f"^[^{REFUSED_CLASS}]*$"
_BAD = re.compile(f"[{REFUSED_CLASS}]")


def first_bad_character(value: str) -> int | None:
    """The position of the first character the rule refuses, or None."""
    found = _BAD.search(value)
    return found.start() if found else None


def without_refused(value: str) -> str:
    """``value`` with the characters the rule refuses taken out (for text factdesk extracts
    itself, such as a PDF's text layer)."""
    return _BAD.sub("", value)


def describe(field: str, value: str, position: int) -> str:
    char = value[position]
    code = f"U+{ord(char):04X}"
    if 0xD800 <= ord(char) <= 0xDFFF:
        kind = "a lone surrogate"
    elif char == "\x00":
        kind = "a NUL character"
    elif unicodedata.category(char) == "Cc":
        kind = "a control character"
    else:
        kind = "a noncharacter"
    return (f"{field} has {kind} ({code}) at position {position}; text may hold any "
            "character but control characters (other than tab and line ends), lone "
            "surrogates and noncharacters")


def problem(field: str, value: str) -> str | None:
    """What is wrong with ``value`` as the text of ``field`` (naming both and the position),
    or None when it keeps to the rule."""
    position = first_bad_character(value)
    return None if position is None else describe(field, value, position)


def check_text(field: str, value: str | None) -> None:
    """Raise InvalidInput naming ``field`` when ``value`` breaks the rule."""
    found = problem(field, value) if value is not None else None
    if found is not None:
        raise InvalidInput(found)


def check_texts(fields: Iterable[tuple[str, str | None]]) -> None:
    for field, value in fields:
        check_text(field, value)
