"""The job history read in order (``store.moves``), on both backends: every row says which host
wrote it, and a reader asks again for the ids it has not seen below the highest it read."""

from __future__ import annotations

from tests.support.store import T0, OpenAs, enqueue
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.moves import Cursor, Move, MoveLog
from viggle_watch.store.states import State


def test_each_row_of_a_jobs_history_names_the_host_that_wrote_it(open_as: OpenAs) -> None:
    """An enqueue, a transition, a note and a take-over each carry their host's name."""
    alpha, beta = open_as("alpha"), open_as("beta")
    job_id = enqueue(JobStore(alpha))
    JobStore(beta).transition(job_id, State.QUEUED, State.PREPARING, at=T0 + 1, owner="beta")
    JobStore(alpha).note(job_id, "a hook ran", at=T0 + 2)
    JobStore(beta).transition(job_id, State.PREPARING, State.SUBMITTING, at=T0 + 3)
    JobStore(beta).transition(job_id, State.SUBMITTING, State.RENDERING, at=T0 + 4)
    HostStore(alpha).take_over(T0 + 1000, lease_s=60)  # beta's lease (0) ran out long ago
    log = MoveLog(alpha)
    moves = log.after(Cursor(0))
    q, p, s, r = State.QUEUED, State.PREPARING, State.SUBMITTING, State.RENDERING
    assert [(m.from_state, m.to_state, m.host) for m in moves] == [
        (None, q, "alpha"),
        (q, p, "beta"),
        (p, p, "alpha"),
        (p, s, "beta"),
        (s, r, "beta"),
        (r, r, "alpha"),
    ]
    assert (log.top(), [m.changed for m in moves]) == (6, [True, True, False, True, True, False])


def test_a_reader_gets_the_rows_above_its_top_and_its_holes(open_as: OpenAs) -> None:
    """Ids 1..4 exist; a cursor at 3 still waiting for 1 reads 1 and 4, by id."""
    db = open_as("alpha")
    store = JobStore(db)
    for key in ("k1", "k2", "k3", "k4"):
        enqueue(store, key=key, source=f"/in/{key}.png")
    got = MoveLog(db).after(Cursor(3, {1: T0}))
    assert got == [
        Move(1, 1, T0, None, State.QUEUED, "alpha"),
        Move(4, 4, T0, None, State.QUEUED, "alpha"),
    ]
    assert MoveLog(db).after(Cursor(4)) == []
