"""Tests for viggle_watch.backoff and viggle_watch.render.retry: retry delays and Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from viggle_watch.backoff import backoff_s, parse_retry_after
from viggle_watch.render.retry import (
    DOWNLOAD_BASE_S,
    DOWNLOAD_CAP_S,
    POLL_SLACK_S,
    SUBMIT_BASE_S,
    SUBMIT_CAP_S,
    download_delay_s,
    poll_delay_s,
    render_age_s,
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


CEILING = constant(1.0)  # full jitter's top of the range
NO_JITTER = constant(0.0)  # a re-submission's bottom of the range


def test_submit_delay_grows_and_caps() -> None:
    """Without jitter, re-submission waits 5, 10, 20 … s up to 120 s."""
    delays = [submit_delay_s(n, rand=NO_JITTER) for n in (1, 2, 3, 7, 20)]
    assert delays == [5.0, 10.0, 20.0, 120.0, 120.0]
    assert (SUBMIT_BASE_S, SUBMIT_CAP_S) == (5.0, 120.0)


def test_submit_delay_honours_a_longer_retry_after() -> None:
    """Retry-After wins when longer than the backoff, and is ignored when shorter."""
    assert [
        submit_delay_s(1, 60.0, rand=NO_JITTER),
        submit_delay_s(3, 1.0, rand=NO_JITTER),
        submit_delay_s(2, None, rand=NO_JITTER),
    ] == [60.0, 20.0, 10.0]


def test_submit_delay_jitter_only_adds_up_to_half() -> None:
    """The jitter never makes a re-submission sooner than the plain doubling (the submitter
    gives up on fast mode after FAST_TRIES tries): it adds up to half of it again."""
    assert [submit_delay_s(3, rand=constant(r)) for r in (0.0, 0.5, 0.999)] == pytest.approx(
        [20.0, 25.0, 29.99]
    )
    assert submit_delay_s(50, rand=constant(0.999)) == pytest.approx(179.94)


def test_submit_delay_jitter_comes_on_top_of_retry_after() -> None:
    """Jobs told the same Retry-After do not all come back in the same second."""
    assert [submit_delay_s(2, 60.0, rand=constant(r)) for r in (0.0, 0.5, 0.9)] == [
        60.0,
        62.5,
        64.5,
    ]


def test_poll_delay_is_the_interval_until_polls_fail() -> None:
    """No failures: the configured interval; failures stretch it, capped at 120 s."""
    assert [poll_delay_s(4.0, f, rand=CEILING) for f in (-1, 0, 1, 2, 3, 5, 10)] == [
        4.0,
        4.0,
        4.0,
        8.0,
        16.0,
        64.0,
        120.0,
    ]


def test_poll_delay_jitter_never_goes_below_the_interval() -> None:
    """Jittered, a failing poll waits between the interval and the stretched ceiling."""
    assert [poll_delay_s(4.0, 3, rand=constant(r)) for r in (0.0, 0.2, 0.5, 0.75)] == [
        4.0,
        4.0,
        8.0,
        12.0,
    ]


def test_poll_delay_never_shorter_than_a_long_interval() -> None:
    """An interval above the 120 s stretch cap is still honoured."""
    assert poll_delay_s(300.0, 3, rand=CEILING) == 300.0
    assert poll_delay_s(300.0, 3, rand=constant(0.0)) == 300.0


def test_download_delay_grows_and_caps() -> None:
    """Download retries wait up to 5, 10, 20 … s, capped at 120 s; zero failures count as one."""
    assert [download_delay_s(f, rand=CEILING) for f in (0, 1, 2, 3, 8, 50)] == [
        5.0,
        5.0,
        10.0,
        20.0,
        120.0,
        120.0,
    ]
    assert (DOWNLOAD_BASE_S, DOWNLOAD_CAP_S) == (5.0, 120.0)


@pytest.mark.parametrize(("rand", "delay"), [(0.0, 0.0), (0.25, 5.0), (0.5, 10.0), (0.999, 19.98)])
def test_download_delay_full_jitter_scales_the_ceiling(rand: float, delay: float) -> None:
    """The injected rand picks the delay in [0, ceiling) (third failure: ceiling 20 s)."""
    assert download_delay_s(3, rand=constant(rand)) == pytest.approx(delay)


@pytest.mark.parametrize(
    ("delay", "low", "high"),
    [
        (lambda: submit_delay_s(4), 40.0, 60.0),
        (lambda: download_delay_s(6), 0.0, 120.0),
        (lambda: poll_delay_s(2.0, 3), 2.0, 8.0),
    ],
    ids=["submit", "download", "poll"],
)
def test_job_retry_delays_are_jittered_by_default(
    delay: Callable[[], float], low: float, high: float
) -> None:
    """Without an injected rand the delays are random and stay in their range: jobs that
    failed together do not all come back together."""
    delays = [delay() for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100  # spread, not one fixed value
    middle = (low + high) / 2
    assert min(delays) < middle < max(delays)


def test_render_age_counts_only_the_time_the_service_watched() -> None:
    """render_timeout's clock: a gap up to the scheduled wait (and slack) counts; downtime or
    a jump forward counts no more than that; a clock that went back counts nothing."""
    assert render_age_s(100.0, 1000.0, 4.0, 1004.0) == 104.0
    assert render_age_s(100.0, 1000.0, 4.0, 1000.0 + 7200) == 100.0 + 4.0 + POLL_SLACK_S
    assert render_age_s(100.0, 1000.0, 4.0, 1000.0 - 3600) == 100.0
