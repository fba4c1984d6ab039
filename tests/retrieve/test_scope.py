"""Filters by date and source: checked input, and no passage or citation outside them.

The property test ingests dated articles from several sources (dates and sources drawn at
random, once) into a real desk, then draws random filters and questions: every passage and
citation of every answer must belong to an article the filter admits, and a filter that
admits articles must still find passages among them (it is applied before ranking).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain import CatalogEntry
from service.errors import InvalidInput
from service.scope import Scope, admitted
from tests.conftest import make_settings

SOURCES = ("Coastal Herald", "Marrow Daily", "Wire Service")
TOPICS = ("harbour", "bridge", "storm", "budget", "school", "railway", "museum", "election")
FIRST_DAY = date(2026, 1, 1)


def test_bad_dates_and_empty_lists_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match="published_after 'yesterday' is not a date"):
        Scope.of(published_after="yesterday")
    with pytest.raises(InvalidInput, match="as_of '2026-02-30' is not a date"):
        Scope.of(as_of="2026-02-30")
    with pytest.raises(InvalidInput, match="later than published_before"):
        Scope.of(published_after="2026-05-01", published_before="2026-04-01")
    with pytest.raises(InvalidInput, match="sources is empty"):
        Scope.of(sources=[" "])
    assert Scope.of(published_after="April 30, 2026").published_after == "2026-04-30"


def test_date_ranges_leave_out_undated_articles_and_as_of_keeps_them() -> None:
    catalog = {
        "old": CatalogEntry("v", "Old", "2026-01-05", "Coastal Herald"),
        "new": CatalogEntry("v", "New", "2026-06-05", "marrow daily "),
        "undated": CatalogEntry("v", "Undated"),
    }
    assert admitted(Scope(), catalog) is None
    assert admitted(Scope.of(published_after="2026-01-05"), catalog) == ["old", "new"]
    assert admitted(Scope.of(published_before="2026-01-04"), catalog) == []
    assert admitted(Scope.of(as_of="2026-03-01"), catalog) == ["old", "undated"]
    assert admitted(Scope.of(sources=["Marrow Daily"]), catalog) == ["new"]
    assert admitted(Scope.of(["new", "undated"], as_of="2026-03-01"), catalog) == ["undated"]


def _article(n: int, rng: random.Random) -> tuple[str, str, str, str]:
    topic = TOPICS[n % len(TOPICS)]
    count = rng.randint(10, 9000)
    text = (f"Officials in Tarn said the {topic} project number {n} had cost {count} crowns. "
            f"The {topic} work began after a long debate in the council, the report said. "
            f"Residents said the {topic} would change the town.")
    published = (FIRST_DAY + timedelta(days=rng.randint(0, 180))).isoformat()
    return f"doc-{n:02d}", text, published, rng.choice(SOURCES)


@pytest.fixture(scope="module")
def dated_desk(tmp_path_factory: pytest.TempPathFactory):
    from service.desk import Factdesk

    desk = Factdesk(make_settings(tmp_path_factory.mktemp("scope") / "data"))
    rng = random.Random(7)
    articles = [_article(n, rng) for n in range(16)]
    for doc_id, text, published, source in articles:
        desk.ingest(text, "text", document_id=doc_id, published=published, source=source)
    return desk, {doc_id: (published, source) for doc_id, _, published, source in articles}


days = st.integers(min_value=-10, max_value=190).map(lambda d: FIRST_DAY + timedelta(days=d))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    after=st.none() | days, before=st.none() | days, as_of=st.none() | days,
    sources=st.none() | st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2),
    topic=st.sampled_from(TOPICS),
)
def test_no_passage_or_citation_falls_outside_the_filter(dated_desk, after, before, as_of,
                                                         sources, topic) -> None:
    desk, meta = dated_desk
    if after and before and after > before:
        after, before = before, after
    scope = Scope.of(published_after=after, published_before=before, sources=sources,
                     as_of=as_of)

    def inside(doc_id: str) -> bool:
        published, source = meta[doc_id]
        return ((after is None or published >= after.isoformat())
                and (before is None or published <= before.isoformat())
                and (as_of is None or published <= as_of.isoformat())
                and (sources is None or source in sources))

    answer = desk.ask(f"How much did the {topic} project cost?", mode="offline", scope=scope)
    admitted_ids = [d for d in meta if inside(d)]
    for passage in answer.passages:
        assert inside(passage.chunk.document_id), (passage.chunk.document_id, scope)
        assert passage.published == meta[passage.chunk.document_id][0]
    for citation in [*answer.citations, *answer.supersedes]:
        assert inside(citation.document_id)
        assert (citation.published, citation.source) == meta[citation.document_id]
    if admitted_ids:
        assert answer.passages, "the filter admits articles, so retrieval finds passages"
    else:
        assert answer.abstained and "No stored article matches the filter" in answer.answer


@pytest.mark.parametrize("share", [0.25, 0.5, 0.75, 1.0])
def test_a_broad_filter_over_fetched_finds_what_the_filtered_query_finds(dated_desk,
                                                                         share: float) -> None:
    desk, meta = dated_desk
    ids = sorted(meta)[: round(len(meta) * share)]
    retriever = desk.retriever
    for topic in TOPICS[:4]:
        vector = desk.embedder.embed_cached([f"What did the {topic} project cost?"])[0]
        for n in (2, 4, 9):  # 9 of 4 admitted articles: the over-fetch falls short
            got = [s.chunk.id for s, _ in retriever._nearest(vector, n, ids)]
            filtered = [s.chunk.id for s, _ in desk.store.query(vector, n, ids)]
            assert got == filtered, (share, topic, n)
