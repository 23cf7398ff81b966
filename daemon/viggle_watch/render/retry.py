"""Pure: how long a job waits before its next try, by what went wrong.

Every retry delay is capped exponential backoff (``viggle_watch.backoff.backoff_s``) with jitter, so
that jobs which failed together (a 429 storm, an outage, a batch of expired URLs) do not all
come back in the same tick:

- downloads and polls: full jitter, uniform in [0, ceiling] (a poll never sooner than its
  interval);
- re-submissions: the ceiling plus up to half of it again. Never sooner than the plain doubling,
  because the submitter gives up on fast mode after a number of *tries* (``FAST_TRIES``): with
  full jitter, a few tries would fit into one short fast-capacity outage and the job would fail.

``rand`` is the random source, a float in [0, 1); the default is ``random.random``; tests pass
a constant (0.0: no jitter).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from viggle_watch.backoff import backoff_s

Rand = Callable[[], float]

SUBMIT_BASE_S: Final = 5.0
SUBMIT_CAP_S: Final = 120.0  # not sent (refused, 429, no fast capacity): back soon
SUBMIT_JITTER_SHARE: Final = 0.5  # a re-submission waits up to this share of its delay longer
DOWNLOAD_BASE_S: Final = 5.0
DOWNLOAD_CAP_S: Final = 120.0  # already paid for: keep trying at least every 2 min
POLL_CAP_S: Final = 120.0
POLL_SLACK_S: Final = 30.0  # a poll may come this much later than scheduled (a busy tick)
BUDGET_RECHECK_S: Final = 60.0  # a job waiting for budget looks again (a cached balance read)


def submit_delay_s(
    attempt: int, retry_after_s: float | None = None, rand: Rand = random.random
) -> float:
    """Delay before re-submitting a job whose POST provably was not acted on: 5-7.5, 10-15,
    20-30 … 120-180 s; a longer ``Retry-After`` from the server replaces the 5, 10, 20 … part."""
    ceiling = backoff_s(attempt, base_s=SUBMIT_BASE_S, cap_s=SUBMIT_CAP_S)
    jitter = SUBMIT_JITTER_SHARE * backoff_s(
        attempt, base_s=SUBMIT_BASE_S, cap_s=SUBMIT_CAP_S, rand=rand
    )
    return max(ceiling, retry_after_s or 0.0) + jitter


def poll_delay_s(poll_interval_s: float, failures: int, rand: Rand = random.random) -> float:
    """Next status poll: the configured interval, stretched (up to 2·, 4· … the interval, at
    most 120 s) while polls keep failing; never shorter than the interval."""
    if failures <= 0:
        return poll_interval_s
    stretched = backoff_s(failures, base_s=poll_interval_s, cap_s=POLL_CAP_S, rand=rand)
    return max(poll_interval_s, stretched)


def download_delay_s(failures: int, rand: Rand = random.random) -> float:
    """Delay before the next download try: up to 5, 10, 20 … 120 s (zero failures count as one)."""
    return backoff_s(max(1, failures), base_s=DOWNLOAD_BASE_S, cap_s=DOWNLOAD_CAP_S, rand=rand)


def poll_cadence_s(poll_interval_s: float, age_s: float) -> float:
    """Poll at the configured interval for two minutes, then slower for long renders."""
    if age_s < 120:
        return poll_interval_s
    factor = 2 if age_s < 600 else 4
    return max(poll_interval_s, min(factor * poll_interval_s, 30.0))


def render_age_s(age_s: float, polled_at: float, scheduled_s: float, now: float) -> float:
    """How long a render has run as far as ``render_timeout`` is concerned: ``age_s`` at the
    last poll (at ``polled_at``, which scheduled the next one ``scheduled_s`` later), plus the
    time since — but never more than was scheduled (and some slack): time the service was not
    running, a machine asleep or a clock jumped forward do not count; a clock that went back
    counts nothing."""
    gap = max(0.0, now - polled_at)
    return age_s + min(gap, max(0.0, scheduled_s) + POLL_SLACK_S)
