"""Tests for viggle_watch.render.outcomes: the one table of what a paid step's answer means."""

from __future__ import annotations

import pytest

from viggle_watch import errors
from viggle_watch.render.outcomes import FAST_REFUSED, FAST_TRIES, Attempt, Next, classify
from viggle_watch.render.retry import BUDGET_RECHECK_S, submit_delay_s


def no_jitter() -> float:
    return 0.0


def rejected(code: str) -> errors.RejectedError:
    return errors.RejectedError("refused", code=code, http_status=400)


def fast_refused() -> errors.FastUnavailableError:
    return errors.FastUnavailableError("no fast capacity", code="CS-UORC01-001", http_status=400)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (errors.NotSentError("connection refused"), (Next.RETRY, True)),
        (errors.ThrottledError("429", retry_after_s=30.0), (Next.RETRY, True)),
        (errors.CreditsError("402 not enough credits"), (Next.WAIT_BUDGET, True)),
        (errors.AuthError("401 bad key"), (Next.RETRY, True)),
        (rejected("CS-ORIV-001"), (Next.FAIL, True)),
        (errors.NotFoundError("404"), (Next.FAIL, True)),
        (errors.OutcomeUnknownError("read timeout after sending"), (Next.UNCERTAIN, False)),
        (errors.TransientError("502"), (Next.UNCERTAIN, False)),
        (errors.DownloadError("odd"), (Next.UNCERTAIN, False)),
    ],
)
def test_a_paid_step_keeps_its_credits_only_when_viggle_may_have_charged(
    exc: errors.ApiError, expected: tuple[Next, bool]
) -> None:
    """Every answer that proves nothing was done refunds; the rest is uncertain."""
    outcome = classify(exc, Attempt(), no_jitter)
    assert (outcome.next, outcome.refund) == expected


def test_a_free_step_is_simply_made_again_when_its_answer_is_lost() -> None:
    """A scene or template costs nothing: a lost answer means make it again, not a person."""
    outcome = classify(errors.OutcomeUnknownError("reset"), Attempt(paid=False), no_jitter)
    assert (outcome.next, outcome.refund, outcome.delay_s) == (Next.RETRY, True, 0.0)


def test_retry_delays_back_off_and_honour_retry_after() -> None:
    """Not sent: the submit backoff for this attempt; a longer Retry-After wins."""
    plain = classify(errors.NotSentError("refused"), Attempt(number=3), no_jitter)
    throttled = classify(errors.ThrottledError("429", retry_after_s=500.0), Attempt(), no_jitter)
    assert (plain.delay_s, throttled.delay_s) == (submit_delay_s(3, None, no_jitter), 500.0)


def test_waiting_for_credits_rechecks_after_the_one_budget_delay() -> None:
    """A 402 waits as long as any other budget wait."""
    assert classify(errors.CreditsError("402"), Attempt()).delay_s == BUDGET_RECHECK_S


def test_only_a_refused_key_pauses_every_submission() -> None:
    """401/403 hold every submission (the job waits); an ordinary 400 fails only its job."""
    pauses = [
        classify(exc, Attempt()).pause
        for exc in (errors.AuthError("403"), rejected("CS-ORIV-001"), errors.NotSentError("x"))
    ]
    assert pauses == [True, False, False]


def test_fast_mode_is_retried_then_fails_after_fast_tries() -> None:
    """Refusals of fast mode are retried, marked in the reason, until the last try fails."""
    early = classify(fast_refused(), Attempt(fast_refusals=FAST_TRIES - 2), no_jitter)
    last = classify(fast_refused(), Attempt(fast_refusals=FAST_TRIES - 1), no_jitter)
    assert (early.next, early.reason.startswith(FAST_REFUSED), last.next, last.code) == (
        Next.RETRY,
        True,
        Next.FAIL,
        "CS-UORC01-001",
    )


def test_other_refusals_do_not_count_towards_fast_tries() -> None:
    """A 429 after two fast refusals is an ordinary retry (only fast refusals count)."""
    outcome = classify(
        errors.ThrottledError("429"), Attempt(fast_refusals=FAST_TRIES - 1), no_jitter
    )
    assert (outcome.next, outcome.reason.startswith(FAST_REFUSED)) == (Next.RETRY, False)


@pytest.mark.parametrize(("can_recreate", "expected"), [(True, Next.RECREATE), (False, Next.FAIL)])
def test_a_stale_cached_asset_is_made_again_once(can_recreate: bool, expected: Next) -> None:
    """CS-ORIV-008..010: recreate when the job may; a second time it fails."""
    outcome = classify(rejected("CS-ORIV-009"), Attempt(can_recreate=can_recreate))
    assert (outcome.next, outcome.refund, outcome.delay_s) == (expected, True, 0.0)
