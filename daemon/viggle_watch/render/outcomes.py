"""Pure: what the answer to a paid step means. One table for a render's POST and for the
creation of a character or scene (docs/reliability.md §2.4, §2.9).

Only an answer that proves the request was not acted on gives the credits back and lets the
step be tried again; an answer that may hide a charge leaves the step ``uncertain`` for a
person (or, for a free step, simply makes it again).

=========================  ============  ======  ===============================
what came back             next          refund  delay
=========================  ============  ======  ===============================
not sent, 429, no fast     retry         yes     backoff (≥ Retry-After)
no fast, ``FAST_TRIES``    fail          yes     -
402 credits                wait_budget   yes     ``BUDGET_RECHECK_S``
400 stale cached asset     recreate      yes     0 (once, when it can be made again)
401/403 key refused        retry + pause yes     - (held until the key passes a check)
400 refused, 404           fail          yes     -
anything else (paid)       uncertain     no      -
anything else (free)       retry         yes     0
=========================  ============  ======  ===============================
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from viggle_watch.errors import (
    ApiError,
    AuthError,
    CreditsError,
    FastUnavailableError,
    NotFoundError,
    NotSentError,
    RejectedError,
    ThrottledError,
)
from viggle_watch.render.retry import BUDGET_RECHECK_S, Rand, submit_delay_s

# 400 codes that mean a cached asset is gone or not usable: make it again, once
STALE_ASSET_CODES: Final = frozenset({"CS-ORIV-008", "CS-ORIV-009", "CS-ORIV-010"})
FAST_TRIES: Final = 3  # fast mode refused this often: the job fails with the reason
FAST_REFUSED: Final = "fast mode unavailable: "  # marks those refusals in the job's history


class Next(StrEnum):
    RETRY = "retry"  # provably not acted on: try again after ``delay_s``
    WAIT_BUDGET = "wait_budget"  # not enough credits at Viggle: wait for them
    RECREATE = "recreate"  # a cached asset is stale: forget it and try again at once
    FAIL = "fail"  # refused: the step fails with the reason
    UNCERTAIN = "uncertain"  # may have been acted on (and charged): a person decides


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a paid step goes next, and why."""

    next: Next
    reason: str
    code: str = ""
    delay_s: float = 0.0
    pause: bool = False  # hold every submission: the API key was refused

    @property
    def refund(self) -> bool:
        """The step's committed credits go back, unless Viggle may have charged them."""
        return self.next is not Next.UNCERTAIN


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the classification needs to know of the step besides the answer."""

    number: int = 1  # this attempt's number (1 for the first)
    fast_refusals: int = 0  # fast-mode refusals before this one
    paid: bool = True  # False: a free step (a scene, a template) is simply made again
    can_recreate: bool = False  # its cached assets may be forgotten and made again


def classify(exc: ApiError, attempt: Attempt, rand: Rand = random.random) -> Outcome:
    """The one classification of a failed paid step (see the table above)."""
    refusals = attempt.fast_refusals + 1 if isinstance(exc, FastUnavailableError) else 0
    if refusals >= FAST_TRIES:
        reason = (
            f"fast mode stayed unavailable for {refusals} tries; retry the job later, "
            "or without fast (`fast: false`)"
        )
        return Outcome(Next.FAIL, reason, exc.code or "fast_unavailable")
    if isinstance(exc, NotSentError | ThrottledError | FastUnavailableError):
        retry_after = exc.retry_after_s if isinstance(exc, ThrottledError) else None
        reason = f"{FAST_REFUSED}{exc}" if refusals else str(exc)
        delay_s = submit_delay_s(attempt.number, retry_after, rand)
        return Outcome(Next.RETRY, reason, delay_s=delay_s)
    if isinstance(exc, CreditsError):
        return Outcome(Next.WAIT_BUDGET, str(exc), delay_s=BUDGET_RECHECK_S)
    if isinstance(exc, RejectedError) and exc.code in STALE_ASSET_CODES and attempt.can_recreate:
        return Outcome(Next.RECREATE, f"a cached asset is stale ({exc.code})")
    if isinstance(exc, AuthError):  # not acted on, and not the job's fault: it waits
        return Outcome(Next.RETRY, f"the API key was refused: {exc}", pause=True)
    if isinstance(exc, RejectedError | NotFoundError):
        return Outcome(Next.FAIL, str(exc), exc.code or "rejected")
    if not attempt.paid:
        return Outcome(Next.RETRY, str(exc))
    return Outcome(Next.UNCERTAIN, f"outcome unknown: {exc}")
