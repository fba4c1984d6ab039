"""A token bucket per caller (an API key, or a client address when no keys are set).

Each caller's bucket holds up to ``burst`` requests and refills at ``per_minute / 60`` a
second. Buckets live in this process: with several workers, each limits on its own, so the
whole service allows up to workers x the rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# Past this many callers, buckets that have refilled completely are forgotten (a full bucket
# is the same as a new one), so a stream of new addresses cannot grow memory without bound.
MAX_TRACKED = 10_000


class RateLimiter:
    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0  # tokens a second
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, caller: str) -> int:
        """Spend one request of ``caller``'s; 0 when allowed, else the seconds to wait."""
        if not self.enabled:
            return 0
        now = self.clock()
        tokens, at = self._buckets.get(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_TRACKED:
                self._forget_full(now)
            return 0
        self._buckets[caller] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        full = [caller for caller, (tokens, at) in self._buckets.items()
                if tokens + (now - at) * self.rate >= self.burst]
        for caller in full:
            del self._buckets[caller]
