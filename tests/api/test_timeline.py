"""Timelines over HTTP: ``/v1/summarize`` with ``timeline: true`` gives the articles' own
sentences, dated and oldest first, each citing its exact span; over ids or a filter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings

pytestmark = pytest.mark.integration

# Four reports of one story, given out of date order; the June one repeats January's figure,
# dated by its own text; the last has no date.
REPORTS = [
    ("kessel-jun", "2026-06-03", "Marrow Daily",
     "Kessel bridge bill climbs after steel found corroded\n\n"
     "The cost of repairing the Kessel river bridge has climbed to 65 million crowns after "
     "engineers found corroded steel beneath the deck, the transport office said.\n"
     "In January, the office had put the bill at 40 million crowns."),
    ("kessel-jan", "2026-01-12", "Coastal Herald",
     "Kessel bridge repairs to cost 40 million crowns\n\n"
     "Repairs to the Kessel river bridge will cost 40 million crowns, the city's transport "
     "office said on Monday.\n"
     "The bridge, which carries 18,000 vehicles a day, has been closed to lorries since "
     "December."),
    ("kessel-sep", "2026-09-21", "Coastal Herald",
     "Kessel bridge reopens to lorries\n\n"
     "Lorries crossed the Kessel river bridge again on Monday for the first time in ten months, "
     "after repairs that the transport office said came in at 63 million crowns."),
    ("kessel-undated", None, "Coastal Herald",
     "Kessel drivers share their detours\n\n"
     "Drivers told the paper that the detour around the closed Kessel bridge added half an "
     "hour to every trip into the city centre, and longer on market days."),
]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from service.api.app import create_app
    from service.desk import Factdesk

    desk = Factdesk(make_settings(tmp_path_factory.mktemp("timeline") / "data"))
    with TestClient(create_app(desk)) as client:
        for doc_id, published, source, text in REPORTS:
            body = {"id": doc_id, "text": text, "source": source}
            if published:
                body["published"] = published
            assert client.post("/v1/documents", json=body).status_code == 200
        yield client


def timeline(client: TestClient, **body: object) -> dict:
    reply = client.post("/v1/summarize", json={"timeline": True, **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_timeline_cites_the_articles_in_date_order(story: TestClient) -> None:
    ids = [doc_id for doc_id, *_ in REPORTS]
    result = timeline(story, document_ids=ids)
    assert result["timeline"] is True and result["mode"] == "offline"
    sentences = result["sentences"]
    dated = [s["date"] for s in sentences if s["date"] is not None]
    assert dated == sorted(dated)
    assert sentences[-1]["date"] is None  # the undated article comes last
    assert sentences[-1]["citations"][0]["document_id"] == "kessel-undated"
    cited = [s["citations"][0]["document_id"] for s in sentences]
    assert set(cited) == set(ids)  # every article is a development
    firsts = list(dict.fromkeys(cited))
    assert firsts == ["kessel-jan", "kessel-jun", "kessel-sep", "kessel-undated"]
    for sentence in sentences:
        for c in sentence["citations"]:
            text = story.get(f"/v1/documents/{c['document_id']}").json()["text"]
            assert text[c["start"]:c["end"]] == c["quote"]
        own = sentence["citations"][0]
        assert sentence["date"] in {own["published"], own["stated"]}
    assert result["summary"].startswith(f"{dated[0]}: {sentences[0]['text']}\n")


def test_a_statement_the_text_dates_earlier_takes_that_date(story: TestClient) -> None:
    result = timeline(story, document_ids=["kessel-jun"], max_sentences=2)
    by_text = {s["text"]: s["date"] for s in result["sentences"]}
    january = next(t for t in by_text if t.startswith("In January"))
    assert by_text[january] == "2026-01-01"
    assert [s["date"] for s in result["sentences"]] == ["2026-01-01", "2026-06-03"]


def test_a_timeline_over_a_filter_holds_only_what_it_admits(story: TestClient) -> None:
    result = timeline(story, published_after="2026-05-01", sources=["Coastal Herald"])
    assert result["document_ids"] == ["kessel-sep"]
    assert {c["document_id"] for s in result["sentences"] for c in s["citations"]} == {
        "kessel-sep"}
    nothing = timeline(story, published_after="2027-01-01")
    assert nothing["sentences"] == [] and "No stored article matches" in nothing["summary"]


def test_a_timeline_keeps_to_the_sentence_limit(story: TestClient) -> None:
    ids = [doc_id for doc_id, *_ in REPORTS]
    assert len(timeline(story, document_ids=ids, max_sentences=3)["sentences"]) == 3


def test_a_timeline_is_extractive_so_mode_llm_is_refused(story: TestClient) -> None:
    reply = story.post("/v1/summarize", json={"timeline": True, "document_ids": ["kessel-jan"],
                                              "mode": "llm"})
    assert reply.status_code == 422
    assert "timeline" in reply.json()["error"]["message"]
