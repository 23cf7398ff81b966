"""A job's state-change listeners (events, hooks, announcements) run only once the outermost
transaction has committed (``store.aftercommit``): a state change made inside a longer
transaction — a ``batch()``, or on PostgreSQL ``Holds.placing`` — whose commit never comes
calls none of them. On both backends; on PostgreSQL with a second host that reads what the
store holds at the moment a listener runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.store import OpenAs
from viggle_watch.store.backend import Backend
from viggle_watch.store.holding import Holds
from viggle_watch.store.jobs import InputRef, Job, JobSpec, JobStore
from viggle_watch.store.states import State

T0 = 1_700_000_000.0


class CommitNeverComesError(Exception):
    """Raised inside the outer transaction after the state change: its commit never comes."""


def queued_job(store: JobStore) -> int:
    spec = JobSpec(
        rule="dance",
        character=InputRef("character", "/in/c.png", "c" * 64, 100),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 999),
        model="V4_Preview",
        output_name="c__dance",
    )
    job_id = store.enqueue(spec, dedup_key="k", source_path="/in/c.png", at=T0)
    assert job_id is not None
    store.due(State.QUEUED, T0)
    return job_id


class Heard:
    """Two listeners; each notes the job's state it was told of and the state another
    connection (another host's, on PostgreSQL) reads in the store at that moment."""

    def __init__(self, store: JobStore, other: JobStore) -> None:
        self.calls: list[tuple[str, State, State | None]] = []
        self._other = other
        for name in ("events", "hooks"):
            store.on_moved(self._listener(name))

    def _listener(self, name: str) -> Callable[[Job], None]:
        def heard(job: Job) -> None:
            seen = self._other.get(job.id)
            self.calls.append((name, job.state, seen.state if seen else None))

        return heard


def stores(open_as: OpenAs) -> tuple[Backend, JobStore, Heard]:
    db = open_as("a")
    store = JobStore(db)
    return db, store, Heard(store, JobStore(open_as("b")))


def test_a_state_change_whose_outer_transaction_rolls_back_calls_no_listener(
    open_as: OpenAs,
) -> None:
    db, store, heard = stores(open_as)
    job_id = queued_job(store)
    with pytest.raises(CommitNeverComesError), db.write():
        store.transition(job_id, State.QUEUED, State.PREPARING, at=T0 + 1)
        raise CommitNeverComesError
    job = store.get(job_id)
    assert (heard.calls, job is not None and job.state) == ([], State.QUEUED)


def test_a_state_change_in_a_savepoint_rolled_back_calls_no_listener(open_as: OpenAs) -> None:
    db, store, heard = stores(open_as)
    job_id = queued_job(store)
    with db.write():
        with pytest.raises(CommitNeverComesError), db.write():
            store.transition(job_id, State.QUEUED, State.PREPARING, at=T0 + 1)
            raise CommitNeverComesError
        store.note(job_id, "the outer transaction goes on and commits", at=T0 + 2)
    job = store.get(job_id)
    assert (heard.calls, job is not None and job.state) == ([], State.QUEUED)


def test_listeners_run_once_each_after_the_outer_commit(open_as: OpenAs) -> None:
    db, store, heard = stores(open_as)
    job_id = queued_job(store)
    with db.write():
        store.transition(job_id, State.QUEUED, State.PREPARING, at=T0 + 1)
        store.transition(job_id, State.PREPARING, State.SUBMITTING, at=T0 + 2)
        assert heard.calls == []  # not yet: nothing is committed
    # each listener once per change, in order, and the other connection already sees the
    # job as the outer transaction left it: the listeners ran after its commit
    assert heard.calls == [
        ("events", State.PREPARING, State.SUBMITTING),
        ("hooks", State.PREPARING, State.SUBMITTING),
        ("events", State.SUBMITTING, State.SUBMITTING),
        ("hooks", State.SUBMITTING, State.SUBMITTING),
    ]


def test_a_job_placed_and_ended_in_a_transaction_that_fails_is_not_announced(
    open_as: OpenAs,
) -> None:
    """``Holds.placing`` (on PostgreSQL the row-locked transaction that ends a job): a
    failure after the state change rolls it back, and no listener hears of a ``done``. On
    one host (SQLite) placing opens no transaction: the change is its own, committed and
    heard, and the next placing finds the job lost."""
    db, store, heard = stores(open_as)
    job_id = queued_job(store)
    src = State.QUEUED
    for dst in (State.PREPARING, State.SUBMITTING, State.RENDERING, State.DOWNLOADING):
        store.transition(job_id, src, dst, at=T0)
        src = dst
    heard.calls.clear()
    with pytest.raises(CommitNeverComesError), Holds(db).placing(job_id, State.DOWNLOADING):
        store.transition(job_id, State.DOWNLOADING, State.DONE, at=T0 + 1, mine=True)
        raise CommitNeverComesError
    job = store.get(job_id)
    done = [("events", State.DONE, State.DONE), ("hooks", State.DONE, State.DONE)]
    if not db.shared:
        assert (heard.calls, job is not None and job.state) == (done, State.DONE)
        return
    assert (heard.calls, job is not None and job.state) == ([], State.DOWNLOADING)
    with Holds(db).placing(job_id, State.DOWNLOADING):
        store.transition(job_id, State.DOWNLOADING, State.DONE, at=T0 + 2, mine=True)
    assert heard.calls == done
