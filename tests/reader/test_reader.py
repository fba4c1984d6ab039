"""The shipped reader (service/reader/model/) on onnxruntime: exact spans, batching that does not
change scores, answers to the seed questions from their own paragraph, abstention on a question
the passage does not touch."""

from pathlib import Path

import pytest
import yaml

from service.reader import Reader, ReaderPassage, shared_reader
from service.scoring import normalize_answer

ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "seeds" / "000_60f6bed6cec462ff.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reader() -> Reader:
    return shared_reader(2)


def paragraph_of(text: str, quote: str) -> ReaderPassage:
    at = text.index(quote)
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    return ReaderPassage("seed", start, end, text[start:end])


def seed_questions(limit: int) -> list[dict]:
    data = yaml.safe_load((ROOT / "eval" / "datasets" / "seed.yaml").read_text(encoding="utf-8"))
    easy = [q for q in data["questions"] if q["answerable"] and q["difficulty"] == "easy"]
    return easy[:limit]


def test_spans_are_exact_article_offsets(reader: Reader) -> None:
    # A passage deep inside an article with non-ASCII text before and inside it: the span's
    # offsets index the article, not the passage.
    article = "Résumé — “préambule” ünïcödé.\n" * 20 + (
        "The committee met in Zürich on 4 May 2021 and elected Ana Müller as chair.")
    start = article.rindex("The committee")
    passage = ReaderPassage("a", start, len(article), article[start:])
    reading = reader.read("Who was elected chair?", [passage], {"a": article})
    assert reading.spans
    for span in reading.spans:
        assert article[span.start:span.end] == span.text
        assert start <= span.start < span.end <= len(article)
    assert "Müller" in reading.best.text


def test_batched_scores_match_single_reads(reader: Reader) -> None:
    question = "How many North Korean soldiers were injured?"
    passages = list(dict.fromkeys(paragraph_of(SEED, q["quote"]) for q in seed_questions(12)))
    assert len(passages) >= 3
    together = reader.read(question, passages)
    for i, passage in enumerate(passages):
        alone = reader.read(question, [passage])
        assert alone.null_scores[0] == pytest.approx(together.null_scores[i], abs=1e-3)
        best_alone = alone.best
        best_together = max((s for s in together.spans if s.passage == i),
                            key=lambda s: s.score)
        assert (best_alone.start, best_alone.end) == (best_together.start, best_together.end)
        assert best_alone.score == pytest.approx(best_together.score, abs=1e-3)


def test_answers_easy_seed_questions_from_their_paragraph(reader: Reader) -> None:
    questions = seed_questions(12)
    right = 0
    for q in questions:
        best = reader.read(q["question"], [paragraph_of(SEED, q["quote"])]).best
        assert best is not None
        said = normalize_answer(best.text)
        right += any(normalize_answer(a) in said for a in q["answers"])
    assert right >= 0.6 * len(questions), f"{right} of {len(questions)}"


def test_off_topic_question_scores_below_the_no_answer_margin(reader: Reader) -> None:
    passage = paragraph_of(SEED, "North Korea has suffered 4,700 casualties")
    reading = reader.read("What is the boiling point of liquid nitrogen?", [passage])
    best = reading.best
    margin = best.score - reading.null_scores[0] if best else float("-inf")
    assert margin < reader.null_margin
