"""The quality gate: a run's summary against the thresholds in eval/thresholds.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from service.evaluation.datasets import REPO

THRESHOLDS_PATH = REPO / "eval" / "thresholds.yaml"
MAX_SUFFIX = "_max"


@dataclass(frozen=True)
class GateFailure:
    metric: str
    value: float | None
    threshold: float
    is_maximum: bool

    def __str__(self) -> str:
        if self.value is None:
            return f"{self.metric} was not measured (threshold {self.threshold})"
        relation = "above the maximum" if self.is_maximum else "below the minimum"
        return f"{self.metric} = {self.value} is {relation} {self.threshold}"


def load_thresholds(dataset: str, path: Path = THRESHOLDS_PATH) -> dict[str, float] | None:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = data.get(dataset)
    return {str(k): float(v) for k, v in found.items()} if found else None


def check_gate(summary: dict[str, Any], thresholds: dict[str, float]) -> list[GateFailure]:
    """A key ``name`` is a minimum for metric ``name``; ``name_max`` is a maximum."""
    failures = []
    for key, threshold in thresholds.items():
        is_maximum = key.endswith(MAX_SUFFIX)
        metric = key.removesuffix(MAX_SUFFIX) if is_maximum else key
        value = summary.get(metric)
        if value is None:
            failed = True
        elif is_maximum:
            failed = value > threshold
        else:
            failed = value < threshold
        if failed:
            failures.append(GateFailure(metric, value, threshold, is_maximum))
    return failures
