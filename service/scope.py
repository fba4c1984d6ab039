"""Which articles a question or a summary may draw on.

A ``Scope`` names documents, a publication date range (both ends inclusive), sources, and an
``as_of`` date ("as it was known then": articles published after it are left out). It is
resolved against the desk's catalog, which holds every article's date and source in memory,
to the ids of the articles it admits; those ids go into Chroma's ``where`` and the lexical
index's allowed set, so that ranking only ever sees admitted passages (filtering a top-k list
afterwards would lose the admitted passages ranked below it).

Dates are compared as ISO ``YYYY-MM-DD`` strings, the form every stored ``published`` has. An
article without a date is outside any date range, since nothing shows it falls inside; under
``as_of`` alone it is kept, since nothing shows it came later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from service.domain import CatalogEntry
from service.errors import InvalidInput
from service.parse.dates import parse_date
from service.text_rules import check_text


@dataclass(frozen=True)
class Scope:
    document_ids: tuple[str, ...] | None = None
    published_after: str | None = None  # YYYY-MM-DD, inclusive
    published_before: str | None = None  # YYYY-MM-DD, inclusive
    sources: tuple[str, ...] | None = None  # matched ignoring case and surrounding space
    as_of: str | None = None  # YYYY-MM-DD: articles published later are left out

    @classmethod
    def of(
        cls,
        document_ids: Sequence[str] | None = None,
        published_after: str | date | None = None,
        published_before: str | date | None = None,
        sources: Sequence[str] | None = None,
        as_of: str | date | None = None,
    ) -> Scope:
        """A checked scope; a bad date or an empty list raises InvalidInput naming the field."""
        after = _date_field("published_after", published_after)
        before = _date_field("published_before", published_before)
        if after and before and after > before:
            raise InvalidInput(f"published_after ({after}) is later than published_before "
                               f"({before}): no date is in that range")
        if sources is not None:
            if isinstance(sources, str):
                raise InvalidInput("sources must be a list of source names, not one string")
            for n, source in enumerate(sources):
                check_text(f"sources[{n}]", source)
            cleaned = tuple(dict.fromkeys(s.strip() for s in sources if s.strip()))
            if not cleaned:
                raise InvalidInput("sources is empty; leave it out to search every source")
            sources = cleaned
        return cls(
            document_ids=None if document_ids is None else tuple(document_ids),
            published_after=after, published_before=before,
            sources=None if sources is None else tuple(sources),
            as_of=_date_field("as_of", as_of),
        )

    @property
    def filters_metadata(self) -> bool:
        """Whether it filters by anything but document ids."""
        return any(v is not None for v in (self.published_after, self.published_before,
                                           self.sources, self.as_of))

    def admits(self, entry: CatalogEntry) -> bool:
        """Whether an article with this catalog entry may be drawn on (its id aside)."""
        published = entry.published
        if self.published_after or self.published_before:
            if published is None:
                return False
            if self.published_after and published < self.published_after:
                return False
            if self.published_before and published > self.published_before:
                return False
        if self.as_of and published is not None and published > self.as_of:
            return False
        if self.sources is not None:
            wanted = {s.casefold() for s in self.sources}
            if entry.source is None or entry.source.strip().casefold() not in wanted:
                return False
        return True

    def describe(self) -> str:
        """The metadata filter in words, for a reply that nothing matched."""
        parts = []
        if self.published_after:
            parts.append(f"published on or after {self.published_after}")
        if self.published_before:
            parts.append(f"published on or before {self.published_before}")
        if self.as_of:
            parts.append(f"published by {self.as_of}")
        if self.sources:
            parts.append("from " + " or ".join(self.sources))
        if self.document_ids is not None:
            parts.append("among the named documents")
        return ", ".join(parts)


def within(scope: Scope | None, document_ids: Sequence[str] | None) -> Scope:
    """``scope`` (or none), limited to ``document_ids`` too when they are given."""
    scope = scope or Scope()
    if document_ids is None:
        return scope
    if scope.document_ids is not None:
        named = set(scope.document_ids)
        document_ids = [d for d in document_ids if d in named]
    return replace(scope, document_ids=tuple(document_ids))


def admitted(scope: Scope, catalog: Mapping[str, CatalogEntry]) -> list[str] | None:
    """The ids of the articles ``scope`` admits, in catalog order (the named ones alone when it
    names documents); None when it admits every article."""
    if not scope.filters_metadata:
        return None if scope.document_ids is None else list(dict.fromkeys(scope.document_ids))
    names = catalog.keys() if scope.document_ids is None else dict.fromkeys(scope.document_ids)
    return [doc_id for doc_id in names
            if (entry := catalog.get(doc_id)) is not None and scope.admits(entry)]


def _date_field(name: str, value: str | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return parse_date(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is empty; give a date such as 2025-04-30")
    iso = parse_date(value)
    if iso is None:
        raise InvalidInput(f"{name} {value!r} is not a date; use YYYY-MM-DD, e.g. 2025-04-30")
    return iso


def parse_day(name: str, value: str) -> date:
    """``value`` as a date, or InvalidInput naming ``name``."""
    iso = _date_field(name, value)
    if iso is None:  # not reached: a str is given
        raise InvalidInput(f"{name} is missing")
    return date.fromisoformat(iso)
