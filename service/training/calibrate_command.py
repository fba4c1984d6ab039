"""``factdesk calibrate-reader``: fit the answerability model (``answer/answerability.py``)
on questions the reader never trained on, asked of an open store as users ask them.

Every distinct context of the calibration files becomes an article of a fresh embedded store;
each question (one per distinct question text, answerable when any of its contexts answers
it) is retrieved for over the whole store, the reader reads the passages the answerer would
read, and every span it finds is a training row, labelled right when its token F1 with a gold
answer reaches ``RIGHT_F1``. A logistic regression over the spans' features gives P(right);
then a one-feature logistic fit of the best span's score per question to whether that span is
right makes the top probability itself calibrated (the best of a dozen candidates is
optimistic otherwise). The default abstention threshold is the one that maximises SQuAD 2.0's
F1 (an abstention scores 1 on an unanswerable question) on the calibration questions.

Which questions may be used: a file the reader trained on contributes only the articles its
training held out (``held_out_titles`` in ``training.json``); a file it never saw, all of it.
Figures are reported on a share of the articles kept out of the fit, then the model is refit
on all of them. Needs scikit-learn (the ``train`` extra).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.training.training_data import QAExample, benchmark_shingles, file_sha1, load_squad

RIGHT_F1 = 0.5
REPORT_SHARE = 0.25  # articles kept out of the fit for the reported figures

Log = Callable[[str], None]


@dataclass(frozen=True)
class CalibrationQuestion:
    id: str
    title: str
    question: str
    answers: tuple[str, ...]  # empty: no stored context answers it
    source: str


@dataclass
class Rows:
    """One row per candidate span; ``question`` indexes the question it answers."""

    features: list[tuple[float, ...]]
    right: list[int]
    question: list[int]
    f1: list[float]


def allowed_examples(paths: Sequence[Path], training_record: dict, bench_dir: Path,
                     log: Log) -> tuple[list[QAExample], list[dict]]:
    """The calibration files' examples that the reader never trained on."""
    trained = {item["path"] for item in training_record.get("data", [])}
    held = training_record.get("held_out_titles", {})
    exclude = benchmark_shingles(bench_dir) if bench_dir.is_dir() else set()
    examples, report = load_squad(paths, exclude)
    kept: list[QAExample] = []
    for path in paths:
        of_file = [e for e in examples if e.source == path.name]
        if path.name in held:
            titles = set(held[path.name])
            of_file = [e for e in of_file if e.title in titles]
        elif path.name in trained:
            raise SystemExit(f"{path.name}: the reader trained on it and held none of it out")
        log(f"{path.name}: {len(of_file)} calibration examples "
            f"({len({e.title for e in of_file})} articles)")
        kept.extend(of_file)
    sources = [{"path": Path(p).name, "sha1": sha, "questions": n} for p, sha, n in report.files]
    return kept, sources


def questions_of(examples: Sequence[QAExample]) -> list[CalibrationQuestion]:
    """One question per (source, question text): the gold answers of all its contexts."""
    grouped: dict[tuple[str, str], list[QAExample]] = {}
    for example in examples:
        grouped.setdefault((example.source, example.question.strip()), []).append(example)
    found = []
    for (source, text), group in grouped.items():
        answers = tuple(dict.fromkeys(a for e in group for a in e.answers))
        found.append(CalibrationQuestion(group[0].id, group[0].title, text, answers, source))
    return found


def collect_rows(examples: Sequence[QAExample], questions: Sequence[CalibrationQuestion],
                 log: Log) -> Rows:
    """Ingest every context into a fresh store, ask every question, describe every span."""
    from service.answer.answerability import PassageEvidence, candidates
    from service.answer.question import analyse_question
    from service.config import get_settings
    from service.desk import Factdesk
    from service.ingest import ArticleIn
    from service.retrieve import RetrievalMode
    from service.scoring import token_f1

    rows = Rows([], [], [], [])
    with tempfile.TemporaryDirectory(prefix="factdesk-calibrate-") as tmp:
        settings = get_settings().model_copy(update={"data_dir": Path(tmp)})
        desk = Factdesk(settings)
        contexts = list(dict.fromkeys(e.context for e in examples))
        started = time.monotonic()
        for i in range(0, len(contexts), 64):
            desk.ingest_many([ArticleIn(c, "text", document_id="cal-" + hashlib.sha1(
                c.encode()).hexdigest()[:16]) for c in contexts[i : i + 64]])
        log(f"ingested {len(contexts)} contexts in {time.monotonic() - started:.0f} s")
        reader = desk.reader
        texts: dict[str, str] = {}
        for n, question in enumerate(questions):
            passages = list(desk.retrieval.retrieve(question.question, None, None,
                                                RetrievalMode.HYBRID))[: settings.reader_passages]
            for p in passages:
                if p.chunk.document_id not in texts:
                    texts[p.chunk.document_id] = desk.get(p.chunk.document_id).text
            reading = reader.read(question.question, [
                _reader_passage(p) for p in passages], texts)
            evidence = [PassageEvidence(p.chunk.text, p.chunk.start, texts[p.chunk.document_id],
                                        p.dense_score) for p in passages]
            for candidate in candidates(analyse_question(question.question), reading, evidence):
                f1 = max((token_f1(candidate.span.text, g) for g in question.answers),
                         default=0.0)
                rows.features.append(candidate.features)
                rows.right.append(int(f1 >= RIGHT_F1))
                rows.question.append(n)
                rows.f1.append(f1)
            if (n + 1) % 200 == 0:
                log(f"asked {n + 1}/{len(questions)}")
        desk.close()
    return rows


def _reader_passage(passage):  # type: ignore[no-untyped-def]
    from service.reader.reader import ReaderPassage

    chunk = passage.chunk
    return ReaderPassage(chunk.document_id, chunk.start, chunk.end, chunk.text)


def fit(rows: Rows, keep: Callable[[int], bool]) -> dict:
    """The span model and the top-span calibration, fitted on the rows of kept questions."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    chosen = [i for i, q in enumerate(rows.question) if keep(q)]
    x = np.array([rows.features[i] for i in chosen], dtype=np.float64)
    y = np.array([rows.right[i] for i in chosen])
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    span_model = LogisticRegression(C=1.0, max_iter=2000).fit((x - means) / scales, y)
    model = {"means": means.tolist(), "scales": scales.tolist(),
             "weights": span_model.coef_[0].tolist(),
             "bias": float(span_model.intercept_[0]), "top_scale": 1.0, "top_bias": 0.0}
    tops = top_spans(rows, model, keep)
    logits = np.array([[_logit(p)] for p, _, _ in tops.values()])
    right = np.array([r for _, r, _ in tops.values()])
    if 0 < right.sum() < len(right):
        top_model = LogisticRegression(C=100.0, max_iter=2000).fit(logits, right)
        model["top_scale"] = float(top_model.coef_[0][0])
        model["top_bias"] = float(top_model.intercept_[0])
    return model


def span_probability(model: dict, features: Sequence[float]) -> float:
    z = model["bias"] + sum(w * (x - m) / s for w, x, m, s in
                            zip(model["weights"], features, model["means"], model["scales"]))
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def top_spans(rows: Rows, model: dict, keep: Callable[[int], bool],
              calibrated: bool = False) -> dict[int, tuple[float, int, float]]:
    """Per kept question: (probability, right, f1) of the span the answerer chooses (the best
    margin less the rank weight, as ``answer.offline._by_margin``)."""
    from service.answer.answerability import FEATURES
    from service.config import get_settings

    weight = get_settings().reader_rank_weight
    margin, rank = FEATURES.index("margin"), FEATURES.index("rank")
    best: dict[int, tuple[float, float, int, float]] = {}
    for features, right, question, f1 in zip(rows.features, rows.right, rows.question, rows.f1):
        if not keep(question):
            continue
        choice = features[margin] - weight * features[rank]
        if question not in best or choice > best[question][0]:
            best[question] = (choice, span_probability(model, features), right, f1)
    tops = {q: (p, r, f1) for q, (_, p, r, f1) in best.items()}
    if calibrated:
        tops = {q: (_top(model, p), r, f1) for q, (p, r, f1) in tops.items()}
    return tops


def _top(model: dict, p: float) -> float:
    z = model["top_scale"] * _logit(p) + model["top_bias"]
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def figures(questions: Sequence[CalibrationQuestion], rows: Rows, model: dict,
            keep: Callable[[int], bool], threshold: float | None = None) -> dict:
    """SQuAD 2.0 F1, abstention and trust figures on the kept questions at ``threshold``
    (searched for the best F1 when None)."""
    tops = top_spans(rows, model, keep, calibrated=True)
    kept = [n for n in range(len(questions)) if keep(n)]

    def f1_at(t: float) -> float:
        total = 0.0
        for n in kept:
            p, _, f1 = tops.get(n, (0.0, 0, 0.0))
            answered = p >= t
            total += (f1 if answered else 0.0) if questions[n].answers else float(not answered)
        return total / max(1, len(kept))

    if threshold is None:
        grid = sorted({round(p, 3) for p, _, _ in tops.values()} | {1.01})
        threshold = max(grid, key=f1_at)
    answered = [n for n in kept if tops.get(n, (0.0, 0, 0.0))[0] >= threshold]
    answerable = [n for n in kept if questions[n].answers]
    impossible = [n for n in kept if not questions[n].answers]
    right = [n for n in answered if questions[n].answers and tops[n][1]]
    scored = [(tops[n][0], int(bool(questions[n].answers) and tops[n][1])) for n in kept
              if n in tops]
    return {
        "questions": len(kept), "answerable": len(answerable), "unanswerable": len(impossible),
        "threshold": round(threshold, 3), "squad_f1": round(f1_at(threshold), 4),
        "coverage": round(len(answered) / max(1, len(kept)), 4),
        "answered_precision": round(len(right) / max(1, len(answered)), 4),
        "abstention_recall": round(sum(n not in answered for n in impossible)
                                   / max(1, len(impossible)), 4),
        "wrongly_abstained_rate": round(sum(n not in answered for n in answerable)
                                        / max(1, len(answerable)), 4),
        "auroc": _auroc(scored),
    }


def _auroc(scored: Sequence[tuple[float, int]]) -> float | None:
    positives = [p for p, y in scored if y]
    negatives = [p for p, y in scored if not y]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return round(wins / (len(positives) * len(negatives)), 4)


def run(data: Sequence[Path], model_dir: Path, bench_dir: Path, limit: int | None,
        seed: int, log: Log, threshold: float | None = None) -> dict:
    from service.answer.answerability import FEATURES
    from service.answer.offline import ANSWERABILITY_FILE

    record = json.loads((model_dir / "training.json").read_text(encoding="utf-8"))
    examples, sources = allowed_examples(data, record, bench_dir, log)
    questions = questions_of(examples)
    random.Random(seed).shuffle(questions)
    if limit is not None:
        questions = questions[:limit]
    asked = {(q.source, q.question) for q in questions}
    examples = [e for e in examples if (e.source, e.question.strip()) in asked]
    log(f"{len(questions)} questions ({sum(not q.answers for q in questions)} unanswerable), "
        f"{len({e.context for e in examples})} contexts")
    rows = collect_rows(examples, questions, log)
    titles = sorted({q.title for q in questions},
                    key=lambda t: hashlib.sha1(f"{seed}-{t}".encode()).hexdigest())
    reported = set(titles[: math.ceil(REPORT_SHARE * len(titles))])

    def fitting(n: int) -> bool:
        return questions[n].title not in reported

    def reporting(n: int) -> bool:
        return questions[n].title in reported

    partial = fit(rows, fitting)
    best_threshold = figures(questions, rows, partial, fitting)["threshold"]
    held = figures(questions, rows, partial, reporting, best_threshold)
    log(f"on {held['questions']} questions of articles kept out of the fit: {held}")
    model = fit(rows, lambda n: True)
    overall = figures(questions, rows, model, lambda n: True)
    log(f"refit on all {overall['questions']} questions: {overall}")
    if threshold is not None:
        log(f"at the given threshold {threshold}: "
            f"{figures(questions, rows, model, lambda n: True, threshold)}")
    saved = {"features": list(FEATURES), **model,
             "threshold": overall["threshold"] if threshold is None else threshold,
             "threshold_source": "best SQuAD 2.0 F1 on the calibration questions"
             if threshold is None else "given (factdesk calibrate-reader --threshold)",
             "right_f1": RIGHT_F1, "sources": sources,
             "calibration_questions": len(questions), "span_rows": len(rows.right),
             "held_out_figures": held, "fit_figures": overall,
             "reader_sha1": file_sha1(model_dir / "model.onnx")}
    (model_dir / ANSWERABILITY_FILE).write_text(json.dumps(saved, indent=2) + "\n",
                                                encoding="utf-8")
    log(f"wrote {model_dir / ANSWERABILITY_FILE}")
    return saved
