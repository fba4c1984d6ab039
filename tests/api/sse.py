"""Reading server-sent events in tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def parse_sse(lines: Iterable[str]) -> list[tuple[str, Any]]:
    """(event, decoded JSON data) pairs; comments (pings) are skipped."""
    events: list[tuple[str, Any]] = []
    name, data = "message", []
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            if data:
                events.append((name, json.loads("\n".join(data))))
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[len("event:"):].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:"):].removeprefix(" "))
    if data:
        events.append((name, json.loads("\n".join(data))))
    return events
