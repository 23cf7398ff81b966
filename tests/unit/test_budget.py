"""Tests for viggle_watch.render.budget: the credit estimate, the UTC day and the budget verdict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from viggle_watch.clock import day_of
from viggle_watch.render.budget import Budget, Verdict, beyond_cap, check_budget, estimate_credits


def ts(text: str) -> float:
    """The timestamp of an ISO date-time with an explicit offset."""
    return datetime.fromisoformat(text).timestamp()


# --- estimate_credits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "credits"),
    [(0.0, 0), (0.2, 1), (1.0, 1), (1.5, 2), (2.0, 2), (2.01, 3), (9.999, 10), (10.0, 10)],
)
def test_estimate_is_the_ceiling_of_the_seconds(seconds: float, credits: int) -> None:
    """A credit per started second: a whole number of seconds is not rounded up again."""
    assert estimate_credits(seconds, fast=False, new_characters=0) == credits


def test_estimate_of_negative_seconds_is_zero() -> None:
    """A nonsensical negative duration costs nothing rather than a negative amount."""
    assert estimate_credits(-3.0, fast=False, new_characters=0) == 0


def test_fast_doubles_the_render_part_only() -> None:
    """fast: 2 x ceil(seconds); the characters to preprocess still cost 1 each."""
    assert [
        estimate_credits(2.01, fast=True, new_characters=0),
        estimate_credits(2.01, fast=True, new_characters=2),
        estimate_credits(2.01, fast=False, new_characters=2),
    ] == [6, 8, 5]


def test_each_new_character_adds_one_credit() -> None:
    """0, 1 and 3 new characters add 0, 1 and 3; a negative count adds nothing."""
    assert [estimate_credits(4.0, fast=False, new_characters=n) for n in (0, 1, 3, -1)] == [
        4,
        5,
        7,
        4,
    ]


# --- day_of ----------------------------------------------------------------------------------


def test_day_of_is_the_utc_day() -> None:
    """The day is the UTC calendar date, whatever the local offset of the moment."""
    assert [
        day_of(ts("2025-03-01T00:00:00+00:00")),
        day_of(ts("2025-02-28T23:59:59+00:00")),
        day_of(ts("2025-03-01T01:30:00+02:00")),  # 23:30 UTC the day before
        day_of(ts("2025-02-28T20:00:00-05:00")),  # 01:00 UTC the next day
    ] == ["2025-03-01", "2025-02-28", "2025-02-28", "2025-03-01"]


def test_day_of_changes_exactly_at_midnight_utc() -> None:
    """The last instant before 00:00 UTC belongs to the old day, 00:00 to the new one."""
    midnight = datetime(2024, 12, 31, tzinfo=UTC).timestamp() + 86_400
    assert (day_of(midnight - 0.001), day_of(midnight)) == ("2024-12-31", "2025-01-01")


# --- check_budget ----------------------------------------------------------------------------


def test_no_caps_and_no_balance_always_go() -> None:
    """None caps mean no cap and an unknown balance does not block."""
    assert check_budget(1_000_000, budget=Budget(), spent_today=1e9, balance=None) == Verdict(True)


def test_all_within_limits_goes() -> None:
    """Under the per-job cap, within the day's room and covered by the balance: go."""
    budget = Budget(daily_credits=100, max_credits_per_job=20)
    assert check_budget(10, budget=budget, spent_today=50, balance=10) == Verdict(True)


def test_exactly_at_every_limit_goes() -> None:
    """Caps are inclusive: estimate == per-job cap, spent + estimate == daily, balance == need."""
    budget = Budget(daily_credits=30, max_credits_per_job=10)
    assert check_budget(10, budget=budget, spent_today=20, balance=10) == Verdict(True)


@pytest.mark.parametrize(
    ("estimate", "budget", "balance", "reason"),
    [
        pytest.param(
            11,
            Budget(daily_credits=1000, max_credits_per_job=10),
            None,
            "estimated 11 credits is over max_credits_per_job 10",
            id="over-the-per-job-cap",
        ),
        pytest.param(
            6,
            Budget(daily_credits=5),
            100,
            "estimated 6 credits is over daily_credits 5",
            id="over-a-whole-days-cap-alone",
        ),
        pytest.param(  # over both caps: the reason names the per-job cap
            7,
            Budget(daily_credits=5, max_credits_per_job=3),
            None,
            "estimated 7 credits is over max_credits_per_job 3",
            id="per-job-cap-checked-first",
        ),
    ],
)
def test_a_job_over_a_cap_is_refused_for_good(
    estimate: float, budget: Budget, balance: float | None, reason: str
) -> None:
    """Dearer than max_credits_per_job or a whole day's cap: it can never go, waiting won't help."""
    assert check_budget(estimate, budget=budget, spent_today=0, balance=balance) == Verdict(
        False, reason, permanent=True
    )


def test_the_days_room_used_up_means_wait() -> None:
    """spent_today + estimate over the daily cap: wait for tomorrow, naming the numbers."""
    budget = Budget(daily_credits=100)
    assert check_budget(8, budget=budget, spent_today=95.5, balance=None) == Verdict(
        False, "daily cap: 95.5 of 100 credits used today, this job needs 8"
    )


def test_a_short_balance_means_wait() -> None:
    """The account has fewer credits than the job needs: wait (credits may be bought)."""
    budget = Budget(daily_credits=100, max_credits_per_job=50)
    assert check_budget(12, budget=budget, spent_today=0, balance=11.5) == Verdict(
        False, "balance 11.5 credits is short of the 12 needed"
    )


def test_the_daily_cap_is_reported_before_a_short_balance() -> None:
    """Both the day's room and the balance are short: the daily cap is named."""
    budget = Budget(daily_credits=10)
    assert check_budget(5, budget=budget, spent_today=8, balance=0) == Verdict(
        False, "daily cap: 8 of 10 credits used today, this job needs 5"
    )


@pytest.mark.parametrize(
    ("costs", "spent", "cap", "waits"),
    [
        ([2.0, 2.0, 2.0], 5.0, 10.0, [False, False, True]),
        ([6.0, 1.0], 0.0, 6.0, [False, True]),
        ([7.0, 1.0], 0.0, 6.0, [True, False]),  # a later, smaller job may still fit
        ([3.0], 100.0, None, [False]),
    ],
)
def test_beyond_cap_marks_the_jobs_that_would_wait(
    costs: list[float], spent: float, cap: float | None, waits: list[bool]
) -> None:
    """Jobs in order use what is left of today's cap; the ones that do not fit would wait."""
    assert beyond_cap(costs, spent_today=spent, daily_cap=cap) == waits
