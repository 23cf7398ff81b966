"""Tests for the API politeness rules: the circuit breaker, the rate limiter, poll cadence."""

from __future__ import annotations

import pytest

from viggle_watch.backoff import RateLimiter
from viggle_watch.render.breaker import CircuitBreaker
from viggle_watch.render.retry import poll_cadence_s

T0 = 1_700_000_000.0


# --- CircuitBreaker --------------------------------------------------------------------------


def test_breaker_starts_closed() -> None:
    """A new breaker lets submissions go."""
    assert CircuitBreaker(threshold=3, cooldown_s=60.0).allows(T0) is True


def test_breaker_opens_after_threshold_failures_in_a_row() -> None:
    """threshold - 1 failures keep it closed; the threshold-th opens it for the cool-down."""
    breaker = CircuitBreaker(threshold=3, cooldown_s=60.0)
    seen = []
    for step in range(3):
        breaker.record(ok=False, now=T0 + step)
        seen.append(breaker.allows(T0 + step))
    assert (seen, breaker.failures, breaker.open_until) == ([True, True, False], 3, T0 + 62.0)


def test_breaker_allows_again_after_the_cooldown() -> None:
    """Closed for cooldown_s after the opening failure, allowed from then on (half-open)."""
    breaker = CircuitBreaker(threshold=2, cooldown_s=30.0)
    breaker.record(ok=False, now=T0)
    breaker.record(ok=False, now=T0 + 1)
    assert [breaker.allows(T0 + 1 + dt) for dt in (0.0, 29.9, 30.0, 500.0)] == [
        False,
        False,
        True,
        True,
    ]


def test_a_success_resets_the_count() -> None:
    """Failures separated by a success never reach the threshold."""
    breaker = CircuitBreaker(threshold=3, cooldown_s=60.0)
    for ok in (False, False, True, False, False):
        breaker.record(ok=ok, now=T0)
    assert (breaker.allows(T0), breaker.failures) == (True, 2)


def test_a_failure_when_half_open_opens_again_at_once() -> None:
    """After the cool-down, one more failure (no success between) reopens the breaker."""
    breaker = CircuitBreaker(threshold=2, cooldown_s=10.0)
    breaker.record(ok=False, now=T0)
    breaker.record(ok=False, now=T0)
    breaker.record(ok=False, now=T0 + 10)
    assert [breaker.allows(T0 + 10), breaker.allows(T0 + 20)] == [False, True]


def test_a_success_when_half_open_closes_it() -> None:
    """A success after the cool-down clears the count: the next failure alone does not open."""
    breaker = CircuitBreaker(threshold=2, cooldown_s=10.0)
    breaker.record(ok=False, now=T0)
    breaker.record(ok=False, now=T0)
    breaker.record(ok=True, now=T0 + 10)
    breaker.record(ok=False, now=T0 + 11)
    assert (breaker.allows(T0 + 11), breaker.failures) == (True, 1)


# --- RateLimiter -----------------------------------------------------------------------------


def test_limiter_lets_a_burst_through_then_delays() -> None:
    """burst calls at once go now; the next one waits 1/rate."""
    limiter = RateLimiter(rate_per_s=2.0, burst=3.0)
    assert [limiter.wait_s(T0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_limiter_spaces_calls_after_the_burst_at_one_over_rate() -> None:
    """Past the burst each further call at the same moment waits 1/rate more than the last."""
    limiter = RateLimiter(rate_per_s=2.0, burst=3.0)
    assert [limiter.wait_s(T0) for _ in range(6)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


def test_limiter_refills_over_time() -> None:
    """Tokens come back at rate_per_s, up to the burst and no further."""
    limiter = RateLimiter(rate_per_s=2.0, burst=3.0)
    drained = [limiter.wait_s(T0) for _ in range(3)]
    after_half_second = limiter.wait_s(T0 + 0.5)  # one token back
    after_a_while = [limiter.wait_s(T0 + 100) for _ in range(4)]  # full again, not 200 tokens
    assert (drained, after_half_second, after_a_while) == (
        [0.0, 0.0, 0.0],
        0.0,
        [0.0, 0.0, 0.0, 0.5],
    )


def test_limiter_evenly_spaced_calls_never_wait() -> None:
    """Callers that arrive every 1/rate seconds are never delayed, even after the burst."""
    limiter = RateLimiter(rate_per_s=4.0, burst=1.0)
    assert [limiter.wait_s(T0 + i * 0.25) for i in range(10)] == [0.0] * 10


def test_limiter_a_waiting_caller_has_reserved_its_slot() -> None:
    """A caller told to wait w and coming back after w is not charged a second token."""
    limiter = RateLimiter(rate_per_s=1.0, burst=1.0)
    first, second = limiter.wait_s(T0), limiter.wait_s(T0)
    third = limiter.wait_s(T0 + 1.0)  # the second caller's slot is at T0 + 1; the third's at +2
    assert (first, second, third) == (0.0, 1.0, 1.0)


@pytest.mark.parametrize("gap_s", [0.0, 0.01, 0.3, 1.0, 7.0])
def test_limiter_never_returns_a_negative_wait(gap_s: float) -> None:
    """Whatever the arrival pattern, the wait is zero or positive."""
    limiter = RateLimiter(rate_per_s=3.0, burst=2.0)
    waits = [limiter.wait_s(T0 + i * gap_s) for i in range(20)]
    assert min(waits) >= 0.0


# --- poll_cadence_s --------------------------------------------------------------------------


def test_poll_cadence_is_the_interval_for_two_minutes() -> None:
    """Young renders are polled at the configured interval."""
    assert [poll_cadence_s(4.0, age) for age in (0.0, 60.0, 119.9)] == [4.0, 4.0, 4.0]


def test_poll_cadence_slows_for_long_renders_up_to_30_s() -> None:
    """2 to 10 minutes: twice the interval; after 10 minutes: four times; never over 30 s."""
    assert [poll_cadence_s(4.0, age) for age in (120.0, 599.9, 600.0, 3600.0)] == [
        8.0,
        8.0,
        16.0,
        16.0,
    ]
    assert [poll_cadence_s(10.0, age) for age in (119.0, 120.0, 600.0)] == [10.0, 20.0, 30.0]


def test_poll_cadence_never_faster_than_the_configured_interval() -> None:
    """ "then slower": a long render is never polled more often than poll_interval."""
    assert [poll_cadence_s(60.0, age) for age in (0.0, 120.0, 600.0)] == [60.0, 60.0, 60.0]
