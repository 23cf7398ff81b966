"""Pure, clock-driven guards shared by every API call: a rate limit and a circuit breaker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    """A token bucket: ``rate_per_s`` requests per second on average, bursts up to ``burst``."""

    rate_per_s: float
    burst: float = 5.0
    _tokens: float = field(default=-1.0, init=False)
    _at: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def wait_s(self, now: float) -> float:
        """Take a token at ``now``; return how long the caller must wait before sending (0: go)."""
        with self._lock:
            if self._tokens < 0:
                self._tokens, self._at = self.burst, now
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate_per_s)
            self._at = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate_per_s


@dataclass
class CircuitBreaker:
    """After ``threshold`` server errors in a row, submissions pause for ``cooldown_s``."""

    threshold: int = 5
    cooldown_s: float = 60.0
    failures: int = 0
    open_until: float = 0.0

    def record(self, *, ok: bool, now: float) -> None:
        if ok:
            self.failures = 0
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = now + self.cooldown_s

    def allows(self, now: float) -> bool:
        """True when submissions may go (closed, or the cool-down has passed: half-open)."""
        return now >= self.open_until
