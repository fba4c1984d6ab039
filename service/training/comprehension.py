"""Reading comprehension with the reader alone (the question's own context given): SQuAD 2.0's
official EM and F1, overall and split into answerable (HasAns) and unanswerable (NoAns)
questions, and the no-answer margin that maximises F1 on a development set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.reader.reader import Reader, ReaderPassage
from service.scoring import exact_match, token_f1


@dataclass(frozen=True)
class ComprehensionItem:
    question: str
    context: str
    answers: tuple[str, ...]  # empty: unanswerable


@dataclass(frozen=True)
class Prediction:
    text: str  # best span
    margin: float  # best span score minus the lowest no-answer score


def predict(reader: Reader, items: Sequence[ComprehensionItem]) -> list[Prediction]:
    predictions = []
    for item in items:
        reading = reader.read(item.question, [ReaderPassage("c", 0, len(item.context),
                                                            item.context)])
        best = reading.best
        if best is None:
            predictions.append(Prediction("", float("-inf")))
        else:
            predictions.append(Prediction(best.text, best.score - reading.null_scores[0]))
    return predictions


def scores(items: Sequence[ComprehensionItem], predictions: Sequence[Prediction],
           threshold: float) -> dict[str, float]:
    """EM/F1 (0-1) when a prediction with margin below ``threshold`` abstains."""
    em: list[float] = []
    f1: list[float] = []
    has: list[int] = []
    for item, prediction in zip(items, predictions):
        text = prediction.text if prediction.margin >= threshold else ""
        if not item.answers:
            em.append(float(text == ""))
            f1.append(float(text == ""))
        elif text == "":
            em.append(0.0)
            f1.append(0.0)
        else:
            em.append(max(float(exact_match(text, g)) for g in item.answers))
            f1.append(max(token_f1(text, g) for g in item.answers))
        has.append(1 if item.answers else 0)

    def mean(values: list[float], keep: int | None = None) -> float:
        chosen = [v for v, h in zip(values, has) if keep is None or h == keep]
        return round(sum(chosen) / len(chosen), 4) if chosen else 0.0

    return {"em": mean(em), "f1": mean(f1), "has_ans_em": mean(em, 1),
            "has_ans_f1": mean(f1, 1), "no_ans_em": mean(em, 0), "no_ans_f1": mean(f1, 0),
            "questions": float(len(items)), "has_ans": float(sum(has)),
            "no_ans": float(len(has) - sum(has)), "threshold": round(threshold, 4)}


def best_threshold(items: Sequence[ComprehensionItem],
                   predictions: Sequence[Prediction]) -> float:
    """The margin that maximises F1 (SQuAD 2.0's "best_f1_thresh", searched over the
    observed margins)."""
    candidates = sorted({round(p.margin, 3) for p in predictions if p.margin != float("-inf")})
    best, best_f1 = 0.0, -1.0
    for threshold in candidates[:: max(1, len(candidates) // 400)]:
        f1 = scores(items, predictions, threshold)["f1"]
        if f1 > best_f1:
            best, best_f1 = threshold, f1
    return best
