"""Pure: how long a job waits before its next try, by what went wrong."""

from __future__ import annotations

from typing import Final

from daemon.backoff import backoff_s

SUBMIT_BASE_S: Final = 5.0
SUBMIT_CAP_S: Final = 120.0  # not sent (refused, 429, no fast capacity): back soon
DOWNLOAD_BASE_S: Final = 5.0
DOWNLOAD_CAP_S: Final = 120.0  # already paid for: keep trying at least every 2 min
BUDGET_RECHECK_S: Final = 300.0


def submit_delay_s(attempt: int, retry_after_s: float | None = None) -> float:
    """Delay before re-submitting a job whose POST provably was not acted on."""
    delay = backoff_s(attempt, base_s=SUBMIT_BASE_S, cap_s=SUBMIT_CAP_S)
    return max(delay, retry_after_s or 0.0)


def poll_delay_s(poll_interval_s: float, failures: int) -> float:
    """Next status poll: the configured interval, stretched while polls keep failing."""
    if failures <= 0:
        return poll_interval_s
    return max(poll_interval_s, backoff_s(failures, base_s=poll_interval_s, cap_s=120.0))


def download_delay_s(failures: int) -> float:
    return backoff_s(max(1, failures), base_s=DOWNLOAD_BASE_S, cap_s=DOWNLOAD_CAP_S)


def poll_cadence_s(poll_interval_s: float, age_s: float) -> float:
    """Poll at the configured interval for two minutes, then slower for long renders."""
    if age_s < 120:
        return poll_interval_s
    factor = 2 if age_s < 600 else 4
    return max(poll_interval_s, min(factor * poll_interval_s, 30.0))
