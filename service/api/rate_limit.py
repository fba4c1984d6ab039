"""Rate limits per caller (an API key, or a client address when no keys are set), with the
``limits`` library: at most ``per_minute`` requests in any 60 seconds (a moving window).

The counts live in this process, or with FACTDESK_REDIS_URL in Redis, where every worker and
machine of the service shares them: a key limited to R a minute gets R in all, whichever
worker answers. When Redis cannot be reached, FACTDESK_RATE_LIMIT_FAIL says what happens:
``open`` lets the request through unlimited, ``closed`` refuses it (503); either way the
failure is logged, counted in /metrics and shown in /healthz until Redis answers again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Literal

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from service.observability import metrics

log = logging.getLogger("factdesk")

# Seconds to wait for Redis before taking it for unreachable: a limit check must not stall
# requests for long.
REDIS_TIMEOUT_S = 0.5


class LimitStoreDown(Exception):
    """The shared store of counts cannot be reached and the limiter fails closed."""


class RateLimiter:
    def __init__(self, per_minute: int, redis_url: str | None = None,
                 fail: Literal["open", "closed"] = "open", namespace: str = "factdesk") -> None:
        self.item = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self.fail_open = fail == "open"
        self.namespace = namespace
        self.store = "redis" if redis_url else "memory"
        storage: Storage
        if redis_url:
            storage = RedisStorage(redis_url, wrap_exceptions=True,
                                   socket_timeout=REDIS_TIMEOUT_S,
                                   socket_connect_timeout=REDIS_TIMEOUT_S)
        else:
            storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(storage)
        self._lock = threading.Lock()
        self.last_error: str | None = None  # the store's last failure, until it answers again

    @property
    def enabled(self) -> bool:
        return self.item is not None

    @property
    def reachable(self) -> bool:
        return self.last_error is None

    def take(self, caller: str) -> int:
        """Spend one request of ``caller``'s: 0 when allowed, else the seconds to wait.
        Raises LimitStoreDown when the store fails and the limiter fails closed."""
        if self.item is None:
            return 0
        try:
            if self.limiter.hit(self.item, self.namespace, caller):
                wait = 0
            else:
                reset, _ = self.limiter.get_window_stats(self.item, self.namespace, caller)
                wait = max(1, math.ceil(reset - time.time()))
        except StorageError as failure:
            metrics.count_rate_limit_failure()
            self._failed(failure)
            if self.fail_open:
                return 0
            raise LimitStoreDown(str(failure)) from failure
        self._answered()
        return wait

    def probe(self) -> None:
        """Ask the store whether it answers, and record the answer (for /healthz)."""
        if self.store == "memory":
            return
        try:
            answered = self.limiter.storage.check()
        except Exception as failure:  # noqa: BLE001 - any failure means unreachable
            answered, cause = False, failure
        else:
            cause = ConnectionError("no answer to PING")
        if answered:
            self._answered()
        else:
            self._failed(StorageError(cause))

    def _answered(self) -> None:
        if self.last_error is not None:
            with self._lock:
                if self.last_error is not None:
                    log.warning("rate limit store (%s) answers again", self.store)
                    self.last_error = None

    def _failed(self, failure: StorageError) -> None:
        cause = failure.storage_error
        with self._lock:
            if self.last_error is None:
                log.warning("rate limit store (%s) unreachable, failing %s: %s", self.store,
                            "open" if self.fail_open else "closed", cause)
            self.last_error = f"{type(cause).__name__}: {cause}"
