"""Helpers the benchmark scripts share: logging, reading the bench files, CPU time,
percentiles, number formatting and package versions."""

from __future__ import annotations

import json
import platform
import resource
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def number(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def versions(packages: Sequence[str]) -> dict[str, str]:
    """Python's version and each package's, or "absent"."""
    from service.package_versions import package_versions

    return {"python": platform.python_version(), **package_versions(packages)}
