"""Fast mode gives up after FAST_TRIES refusals of fast mode itself, not after any FAST_TRIES
tries: 429s and unsent requests on the way do not count (real SQLite store, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from tests.support.store import make_spec
from viggle_watch.errors import ApiError, FastUnavailableError, ThrottledError
from viggle_watch.render.breaker import CircuitBreaker
from viggle_watch.render.outcomes import FAST_TRIES
from viggle_watch.render.submitter import SubmitSettings, Submitter
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.assets import AssetStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State

T0 = 1_700_000_000.0


def test_only_fast_refusals_count_towards_giving_up(tmp_path: Path) -> None:
    """Three fast refusals fail the job; the 429s between them are ordinary retries."""
    db = Database.open(tmp_path / "state.db")
    store = JobStore(db)
    job_id = store.enqueue(make_spec("a.png"), dedup_key="k", source_path="/in/a.png", at=T0)
    assert job_id is not None
    submitter = Submitter(
        # the client is never called: the outcomes are fed in by hand
        Wiring(store, cast(Any, None), lambda _job: None),
        AssetStore(db),
        SubmitSettings(max_in_flight=2, poll_interval_s=4.0),
        breaker=CircuitBreaker(),
    )
    throttled = ThrottledError("slow down", retry_after_s=1.0)
    refused = FastUnavailableError("no fast capacity", http_status=400, code="CS-UORC01-001")
    outcomes: list[ApiError] = [throttled, throttled, refused, throttled, refused, refused]
    states = []
    reasons = []
    for n, exc in enumerate(outcomes):
        now = T0 + 1000 * n
        store.transition(job_id, State.QUEUED, State.PREPARING, at=now)
        job = store.transition(job_id, State.PREPARING, State.SUBMITTING, at=now, attempts=n + 1)
        submitter._classify_failure(job, exc, now)
        after = store.get(job_id)
        assert after is not None
        states.append(after.state)
        reasons.append(after.error_message)
    db.close()
    assert FAST_TRIES == 3
    assert states == [State.QUEUED] * 5 + [State.FAILED]
    assert reasons[-1] == (
        "fast mode stayed unavailable for 3 tries; retry the job later, or without fast "
        "(`fast: false`)"
    )
