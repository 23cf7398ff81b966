"""The pure half of hooks: the signature, how a response is judged, the retry delay."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from viggle_watch.notify.delivery import Verdict, event_for, judge, retry_delay_s, sign
from viggle_watch.store.states import State


def test_sign_is_the_hex_hmac_sha256_with_a_prefix() -> None:
    """``sha256=`` followed by the hex HMAC-SHA256 of the exact body bytes."""
    body, secret = b'{"job": {"id": 1}}\n', b"s3cret"
    assert sign(body, secret) == "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_sign_changes_with_the_body_and_the_secret() -> None:
    """One byte more in the body, or another secret, gives another signature."""
    base = sign(b"{}", b"a")
    assert (sign(b"{} ", b"a") == base, sign(b"{}", b"b") == base) == (False, False)


@pytest.mark.parametrize(
    ("status", "retry_after", "verdict"),
    [
        (200, None, Verdict(ok=True, retry=False)),
        (204, None, Verdict(ok=True, retry=False)),
        (500, None, Verdict(ok=False, retry=True, reason="HTTP 500")),
        (503, "12", Verdict(ok=False, retry=True, reason="HTTP 503", retry_after_s=12.0)),
        (429, "3", Verdict(ok=False, retry=True, reason="HTTP 429", retry_after_s=3.0)),
        (400, None, Verdict(ok=False, retry=False, reason="HTTP 400")),
        (404, "5", Verdict(ok=False, retry=False, reason="HTTP 404")),
        (302, None, Verdict(ok=False, retry=False, reason="HTTP 302 (redirects are not followed)")),
    ],
)
def test_judge(status: int, retry_after: str | None, verdict: Verdict) -> None:
    """2xx delivered; 429 and 5xx retried (with Retry-After); other answers are final."""
    assert judge(status, retry_after) == verdict


def test_retry_delay_is_capped_backoff_or_retry_after() -> None:
    """1, 2, 4 … s capped at 60 s; a Retry-After wins but is capped too."""
    delays = [retry_delay_s(n, None) for n in (1, 2, 3, 7, 8)]
    assert (delays, retry_delay_s(1, 7.0), retry_delay_s(1, 3600.0)) == (
        [1.0, 2.0, 4.0, 60.0, 60.0],
        7.0,
        60.0,
    )


def test_event_for_each_ending() -> None:
    """done runs on_done, failed runs on_failed, a cancelled job runs no hook."""
    assert [event_for(s) for s in (State.DONE, State.FAILED, State.CANCELLED)] == [
        "done",
        "failed",
        None,
    ]
