"""Issue 19 §1, the decisions: whether a job is still this host's (``store.holding``), and when
a download proves it again (``render.lost``). Pure; no store, no files."""

from __future__ import annotations

import io

import pytest

from viggle_watch.errors import JobLostError
from viggle_watch.render.lost import ProvedWrites, proof_age_s, proof_due
from viggle_watch.store.holding import Found, lost_reason
from viggle_watch.store.states import State

D, DONE = State.DOWNLOADING, State.DONE


@pytest.mark.parametrize(
    ("found", "shared", "why"),
    [
        (Found(D, "a"), True, None),
        (Found(D, "a"), False, None),
        (Found(D, "b"), True, "host b holds it now"),
        (Found(DONE, "b"), True, "host b holds it now"),  # taken over and finished
        (Found(D, None), True, "no host holds it now"),
        (Found(DONE, "a"), True, "it is done now, no longer downloading"),
        # one host: the owner column says nothing, only the state can move under it
        (Found(D, "b"), False, None),
        (Found(DONE, "a"), False, "it is done now, no longer downloading"),
        (None, True, "it is gone from the store"),
        (None, False, "it is gone from the store"),
    ],
)
def test_a_job_is_this_hosts_while_it_holds_it_in_the_state_it_works_in(
    found: Found | None, shared: bool, why: str | None
) -> None:
    assert lost_reason(found, state=D, host="a", shared=shared) == why


@pytest.mark.parametrize(
    ("proved_at", "now", "due"),
    [(None, 0.0, True), (10.0, 10.0, False), (10.0, 12.4, False), (10.0, 12.5, True)],
)
def test_a_write_proves_first_when_never_proved_or_the_proof_is_old(
    proved_at: float | None, now: float, due: bool
) -> None:
    assert proof_due(proved_at, now, 2.5) is due


def test_a_proof_lasts_a_heartbeat() -> None:
    assert (proof_age_s(10.0), proof_age_s(60.0), proof_age_s(600.0), proof_age_s(2.0)) == (
        2.5,
        15.0,
        15.0,
        1.0,
    )


class Scripted:
    """A monotonic clock the test moves, and a store that says the job is lost when told."""

    def __init__(self) -> None:
        self.now, self.proofs, self.lost = 0.0, 0, False

    def clock(self) -> float:
        return self.now

    def prove(self) -> None:
        self.proofs += 1
        if self.lost:
            raise JobLostError(1, "host b holds it now", holder="b")


def test_a_download_writes_only_after_a_fresh_proof_and_stops_once_the_job_is_lost() -> None:
    script, f = Scripted(), io.BytesIO()
    out = ProvedWrites(f, script.prove, every_s=2.5, clock=script.clock).file()
    out.write(b"a")  # the first byte: proved first
    script.now = 1.0
    out.write(b"b")  # within a heartbeat of the proof: no new one
    script.now, script.lost = 300.0, True  # paused (SIGSTOP) past the lease; taken over
    with pytest.raises(JobLostError):
        out.write(b"c")
    with pytest.raises(JobLostError):
        out.truncate()  # a restart from byte 0 is a write too
    out.flush()
    assert (f.getvalue(), script.proofs) == (b"ab", 3)
