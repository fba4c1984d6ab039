"""What ``Factdesk.doctor`` found: the store's consistency and the desk's view of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.store import StoreCheck


@dataclass
class DoctorReport:
    """What ``Factdesk.doctor`` found, in counts, and what ``repair`` removed."""

    articles: int
    chunks: int  # every chunk record, trusted or not
    stale_chunks: int  # of another version of their article (an interrupted update)
    orphan_chunks: int  # of no article record (an interrupted first write, or a delete)
    incomplete_articles: list[str]  # records whose current version misses chunks
    lexical_missing: int  # current chunks the lexical index lacks
    lexical_extra: int  # lexical entries that are no current chunk in the store
    catalog_mismatched: int  # documents whose catalog entry differs from the store's record
    repaired: dict[str, int] | None = None

    @property
    def problems(self) -> int:
        return (self.stale_chunks + self.orphan_chunks + len(self.incomplete_articles)
                + self.lexical_missing + self.lexical_extra + self.catalog_mismatched)

    @classmethod
    def of(cls, check: StoreCheck, catalog: Mapping[str, Sequence[str | None]],
           lexical: set[str]) -> DoctorReport:
        versions = {doc_id: version for doc_id, (version, _) in check.articles.items()}
        mismatched = {doc_id for doc_id in catalog.keys() | versions.keys()
                      if catalog.get(doc_id, (None,))[0] != versions.get(doc_id)}
        return cls(
            articles=len(check.articles), chunks=check.chunks,
            stale_chunks=len(check.stale_chunks), orphan_chunks=len(check.orphan_chunks),
            incomplete_articles=list(check.incomplete_articles),
            lexical_missing=len(check.current_chunks - lexical),
            lexical_extra=len(lexical - check.current_chunks),
            catalog_mismatched=len(mismatched),
        )
