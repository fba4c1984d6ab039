"""The answerability features describe what the evidence says of each candidate span, and the
model's confidence and threshold decide answering; a threshold given per call wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.answer import answer_offline
from service.answer.answerability import (
    FEATURES,
    AnswerabilityModel,
    PassageEvidence,
    candidates,
)
from service.answer.offline import answerability_model
from service.answer.question import analyse_question
from service.domain import Chunk, Passage
from service.reader import Reader, ReaderPassage, shared_reader
from service.reader.reader import ReaderSpan, Reading

STORM = ("Storm Ingrid forced the evacuation of 3,450 homes along the coast on Friday, "
         "the regional government said.")


def feature(candidate, name: str) -> float:  # type: ignore[no-untyped-def]
    return candidate.features[FEATURES.index(name)]


def reading_of(text: str, spans: list[tuple[str, float]], null: float = 0.0) -> Reading:
    found = []
    for span_text, score in spans:
        at = text.index(span_text)
        found.append(ReaderSpan("d", 0, at, at + len(span_text), span_text, score, null))
    return Reading(found, [null])


def test_a_count_asked_and_a_count_given_fit_a_name_given_clashes() -> None:
    reading = reading_of(STORM, [("3,450", 5.0), ("Storm Ingrid", 4.0)])
    evidence = [PassageEvidence(STORM, 0, STORM, 0.6)]
    number, name = candidates(analyse_question("How many homes were evacuated?"), reading,
                              evidence)
    assert feature(number, "type_fits") == 1.0 and feature(number, "type_clashes") == 0.0
    assert feature(name, "type_fits") == 0.0 and feature(name, "type_clashes") == 1.0
    assert feature(number, "margin") == 5.0 and feature(name, "margin_below_best") == 1.0


def test_a_name_the_sentence_lacks_shows_in_the_key_term_features() -> None:
    reading = reading_of(STORM, [("3,450", 5.0)])
    evidence = [PassageEvidence(STORM, 0, STORM, 0.6)]
    [on_topic] = candidates(analyse_question("How many homes did Storm Ingrid empty?"),
                            reading, evidence)
    [other] = candidates(analyse_question("How many homes did Storm Zoltan empty?"),
                         reading, evidence)
    assert feature(on_topic, "key_terms_in_sentence") == 1.0
    assert feature(other, "key_terms_in_sentence") < 1.0
    assert feature(other, "key_terms_missing") == 1.0
    assert feature(on_topic, "key_terms_missing") == 0.0


def test_the_same_answer_from_two_passages_counts_as_agreement() -> None:
    first = "Officials said 3,450 homes were emptied."
    second = "In all, 3,450 homes were evacuated, the mayor said."
    text = first + "\n\n" + second
    at = text.index(second)
    spans = [ReaderSpan("d", 0, 15, 20, "3,450", 4.0, 0.0),
             ReaderSpan("d", 1, at + 8, at + 13, "3,450", 3.0, 0.0)]
    evidence = [PassageEvidence(first, 0, text, 0.5), PassageEvidence(second, at, text, 0.4)]
    found = candidates(analyse_question("How many homes were evacuated?"),
                       Reading(spans, [0.0, 0.0]), evidence)
    assert [feature(c, "agreement") for c in found] == [1.0, 1.0]
    assert [feature(c, "rank") for c in found] == [0.0, 1.0]


def test_a_model_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answerability.json"
    path.write_text(json.dumps({"features": ["margin"], "means": [0], "scales": [1],
                                "weights": [1], "bias": 0, "threshold": 0.5}))
    with pytest.raises(ValueError, match="refit"):
        AnswerabilityModel.load(path)


def test_confidence_rises_with_the_span_score() -> None:
    model = AnswerabilityModel((0.0,) * len(FEATURES), (1.0,) * len(FEATURES),
                               (1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0, 0.5, 2.0, -1.0)
    low, high = model.span_score((0.0,) * len(FEATURES)), model.span_score(
        (3.0,) + (0.0,) * (len(FEATURES) - 1))
    assert high == 3.0 and low == 0.0
    assert model.confidence(low) < 0.5 < model.confidence(high) < 1.0


@pytest.fixture(scope="module")
def reader() -> Reader:
    return shared_reader(2)


def test_the_shipped_reader_has_an_answerability_model(reader: Reader) -> None:
    model = answerability_model(reader.model_dir)
    assert model is not None
    assert 0.0 < model.threshold < 1.0


def test_a_threshold_given_per_call_decides_answering(reader: Reader) -> None:
    text = "The quay was designed by the engineer Ana Müller, whose firm built the terminal."
    passages = [Passage(Chunk("q:0", "q", 0, 0, len(text), text), "Quay", 1.0, 0.7)]
    sure = answer_offline("Who designed the quay?", passages, {"q": text}, reader,
                          min_confidence=0.0)
    assert not sure.abstained and "Müller" in sure.answer
    strict = answer_offline("Who designed the quay?", passages, {"q": text}, reader,
                            min_confidence=1.0)
    assert strict.abstained and strict.citations == []
    assert strict.confidence == pytest.approx(1 - sure.confidence, abs=1e-3)
    reading = reader.read("Who designed the quay?", [ReaderPassage("q", 0, len(text), text)])
    assert reading.spans
