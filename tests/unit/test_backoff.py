"""Tests for daemon.backoff and daemon.render.retry: retry delays and Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from daemon.backoff import backoff_s, parse_retry_after
from daemon.render.retry import (
    DOWNLOAD_BASE_S,
    DOWNLOAD_CAP_S,
    SUBMIT_BASE_S,
    SUBMIT_CAP_S,
    download_delay_s,
    poll_delay_s,
    submit_delay_s,
)

NOW = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)


def constant(value: float) -> Callable[[], float]:
    """A ``rand`` that always returns ``value``."""
    return lambda: value


def test_backoff_doubles_from_the_base() -> None:
    """Without jitter the ceiling is base·2^(n-1): 1, 2, 4, 8, 16, 32 s."""
    assert [backoff_s(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_backoff_is_capped() -> None:
    """The delay never exceeds cap_s, even for huge attempt numbers."""
    assert [backoff_s(n, base_s=5.0, cap_s=30.0) for n in (1, 2, 3, 4, 10, 1000)] == [
        5.0,
        10.0,
        20.0,
        30.0,
        30.0,
        30.0,
    ]


def test_backoff_treats_attempt_zero_and_below_as_the_first() -> None:
    """Attempt numbers below 1 give the base delay, not a fraction of it."""
    assert [backoff_s(n, base_s=3.0) for n in (-5, 0, 1)] == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(("rand", "delay"), [(0.0, 0.0), (0.25, 2.0), (0.5, 4.0), (0.999, 7.992)])
def test_backoff_full_jitter_scales_the_ceiling(rand: float, delay: float) -> None:
    """With an injected rand in [0, 1) the delay is rand · ceiling (here ceiling 8 s)."""
    assert backoff_s(4, rand=constant(rand)) == pytest.approx(delay)


def test_backoff_jitter_stays_within_bounds_when_capped() -> None:
    """Jitter applies to the capped ceiling: never above the cap, never below zero."""
    delays = [backoff_s(50, cap_s=60.0, rand=constant(r / 10)) for r in range(10)]
    assert (min(delays), max(delays)) == (0.0, 54.0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5), ("-5", 0.0)],
)
def test_retry_after_seconds(header: str, seconds: float) -> None:
    """Delta-seconds are read as seconds; a negative value means "now" (0)."""
    assert parse_retry_after(header, now=NOW) == seconds


def test_retry_after_http_date() -> None:
    """An HTTP date is the time left until it, measured from ``now``."""
    assert parse_retry_after("Mon, 06 Jan 2025 12:01:30 GMT", now=NOW) == 90.0


def test_retry_after_http_date_in_the_past_is_zero() -> None:
    """A date already gone means retry now."""
    assert parse_retry_after("Mon, 06 Jan 2025 11:00:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "Mon, 99 Foo 2025", "12s"])
def test_retry_after_garbage_is_none(header: str | None) -> None:
    """Absent or unreadable headers give None (the caller uses its own backoff)."""
    assert parse_retry_after(header, now=NOW) is None


def test_submit_delay_grows_and_caps() -> None:
    """Re-submission waits 5, 10, 20 … s up to 120 s."""
    assert [submit_delay_s(n) for n in (1, 2, 3, 7, 20)] == [5.0, 10.0, 20.0, 120.0, 120.0]
    assert (SUBMIT_BASE_S, SUBMIT_CAP_S) == (5.0, 120.0)


def test_submit_delay_honours_a_longer_retry_after() -> None:
    """Retry-After wins when longer than the backoff, and is ignored when shorter."""
    assert [submit_delay_s(1, 60.0), submit_delay_s(3, 1.0), submit_delay_s(2, None)] == [
        60.0,
        20.0,
        10.0,
    ]


def test_poll_delay_is_the_interval_until_polls_fail() -> None:
    """No failures: the configured interval; failures stretch it, capped at 120 s."""
    assert [poll_delay_s(4.0, f) for f in (-1, 0, 1, 2, 3, 5, 10)] == [
        4.0,
        4.0,
        4.0,
        8.0,
        16.0,
        64.0,
        120.0,
    ]


def test_poll_delay_never_shorter_than_a_long_interval() -> None:
    """An interval above the 120 s stretch cap is still honoured."""
    assert poll_delay_s(300.0, 3) == 300.0


def test_download_delay_grows_and_caps() -> None:
    """Download retries wait 5, 10, 20 … s up to 120 s; zero failures counts as one."""
    assert [download_delay_s(f) for f in (0, 1, 2, 3, 8, 50)] == [
        5.0,
        5.0,
        10.0,
        20.0,
        120.0,
        120.0,
    ]
    assert (DOWNLOAD_BASE_S, DOWNLOAD_CAP_S) == (5.0, 120.0)
