"""Pure, clock-driven: the circuit breaker that pauses submissions during an outage."""

from __future__ import annotations

from dataclasses import dataclass


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
