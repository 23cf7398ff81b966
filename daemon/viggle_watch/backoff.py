"""Pure: capped exponential backoff with full jitter, Retry-After parsing, a rate limiter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def backoff_s(
    attempt: int,
    *,
    base_s: float = 1.0,
    cap_s: float = 60.0,
    rand: Callable[[], float] = lambda: 1.0,
) -> float:
    """Delay before retry number ``attempt`` (1-based): uniform in [0, min(cap, base·2^(n-1))].

    ``rand`` returns a float in [0, 1); pass ``random.random`` for full jitter. The default
    (1.0) gives the ceiling, which is what tests want; the job-level delays in
    ``viggle_watch.render.retry`` pass a random source.
    """
    ceiling = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return ceiling * rand()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class RateLimiter:
    """A token bucket: ``rate_per_s`` requests per second on average, bursts up to ``burst``."""

    rate_per_s: float
    burst: float = 5.0
    _tokens: float = field(default=0.0, init=False)
    _at: float | None = field(default=None, init=False)  # None: not started
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def wait_s(self, now: float) -> float:
        """Take a token at ``now``; return how long the caller must wait before sending (0: go)."""
        with self._lock:
            if self._at is None:
                self._tokens, self._at = self.burst, now
            # a waiting caller has taken its token already: the count may be below zero
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate_per_s)
            self._at = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate_per_s
