"""Question sets (the YAML schema in eval/README.md) and the distractor articles."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DATASETS_DIR = REPO / "eval" / "datasets"
# Public benchmark data lives beside the project, never inside it (shared/bench/README.md);
# FACTDESK_BENCH_DIR points elsewhere.
BENCH_DIR_ENV = "FACTDESK_BENCH_DIR"
BENCH_DIR = Path(os.environ.get(BENCH_DIR_ENV) or REPO.parent / "shared" / "bench")
SUMMEVAL_PATH = BENCH_DIR / "summeval-dev.jsonl"


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    quote: str | None
    type: str
    answerable: bool
    difficulty: str
    note: str | None = None
    # Values the articles give for an earlier time: an answer with one is a stale figure.
    stale_answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalDataset:
    name: str
    path: Path
    article: Path
    questions: tuple[EvalQuestion, ...]

    def limited(self, limit: int | None) -> EvalDataset:
        if limit is None:
            return self
        return EvalDataset(self.name, self.path, self.article, self.questions[:limit])


@dataclass(frozen=True)
class DistractorArticle:
    id: str
    text: str


def dataset_path(spec: str) -> Path:
    """A dataset name in eval/datasets/ (``seed``) or a path to a YAML file."""
    given = Path(spec)
    if given.suffix in {".yaml", ".yml"} or given.exists():
        return given
    return DATASETS_DIR / f"{spec}.yaml"


def load_dataset(spec: str) -> EvalDataset:
    path = dataset_path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"no dataset at {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ValueError(f"{path}: expected a mapping with a `questions` list")
    return EvalDataset(
        name=path.stem,
        path=path,
        article=_article_path(str(data["article"]), path),
        questions=tuple(_question(item) for item in data["questions"]),
    )


def _article_path(article: str, dataset: Path) -> Path:
    """Article paths are relative to the repository root, else to the dataset file."""
    given = Path(article)
    if given.is_absolute():
        return given
    from_repo = REPO / given
    return from_repo if from_repo.exists() else dataset.parent / given


def _question(item: dict[str, object]) -> EvalQuestion:
    answers = item.get("answers") or []
    quote = item.get("quote")
    note = item.get("note")
    stale = item.get("stale_answers") or []
    return EvalQuestion(
        id=str(item["id"]),
        question=str(item["question"]),
        answers=tuple(str(a) for a in answers) if isinstance(answers, list) else (),
        quote=str(quote) if quote is not None else None,
        type=str(item["type"]),
        answerable=bool(item["answerable"]),
        difficulty=str(item["difficulty"]),
        note=str(note) if note is not None else None,
        stale_answers=tuple(str(a) for a in stale) if isinstance(stale, list) else (),
    )


def summeval_articles(path: Path = SUMMEVAL_PATH) -> Iterator[DistractorArticle]:
    """The SummEval news articles, ingested beside the seed so retrieval has to choose."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                item = json.loads(line)
                yield DistractorArticle(id=f"summeval-{item['id']}", text=item["article"])
