"""The store's contract: the job queue and its state machine, on SQLite and on PostgreSQL.

Every test that takes ``store`` or ``backend`` runs against both backends (PostgreSQL tests
skip with a reason when no server can be started); the SQLite file's own tests are in
``test_store_files.py``."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable

import pytest

from tests.support.store import T0, OpenAs, enqueue, make_spec
from viggle_watch.errors import BudgetExceededError, StoreError, TransitionError
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Event, Job, JobStore, Spend
from viggle_watch.store.leases import Leases
from viggle_watch.store.states import ALLOWED, IN_FLIGHT, TERMINAL, State, allowed

ALL_PAIRS = list(itertools.product(State, State))
ALLOWED_PAIRS = [(src, dst) for src, dst in ALL_PAIRS if dst in ALLOWED[src]]
DISALLOWED_PAIRS = [(src, dst) for src, dst in ALL_PAIRS if dst not in ALLOWED[src]]


@pytest.fixture
def store(backend: Backend) -> JobStore:
    """The job queue over a fresh store (each backend in turn)."""
    return JobStore(backend)


def path_to(target: State) -> list[State]:
    """The shortest chain of allowed states from queued to ``target`` (queued included)."""
    routes: dict[State, list[State]] = {State.QUEUED: [State.QUEUED]}
    todo = deque([State.QUEUED])
    while todo:
        here = todo.popleft()
        for nxt in sorted(ALLOWED[here]):
            if nxt not in routes:
                routes[nxt] = [*routes[here], nxt]
                todo.append(nxt)
    return routes[target]


def job_in(store: JobStore, state: State) -> int:
    """A new job moved along allowed transitions until it is in ``state``."""
    job_id = enqueue(store)
    route = path_to(state)
    for step, (src, dst) in enumerate(itertools.pairwise(route), start=1):
        store.transition(job_id, src, dst, at=T0 + step)
    return job_id


# --- the database --------------------------------------------------------------------------


def test_write_rolls_back_on_error(backend: Backend, store: JobStore) -> None:
    """An exception inside ``write()`` leaves no trace of the transaction."""
    with pytest.raises(RuntimeError), backend.write() as conn:
        conn.execute(
            "INSERT INTO jobs (rule, state, dedup_key, source_path, request_json, model,"
            " created_at, updated_at) VALUES ('r', 'queued', 'k', 's', '{}', 'm', 0, 0)"
        )
        raise RuntimeError("boom")
    assert store.counts()[State.QUEUED] == 0


# --- enqueue and reading -------------------------------------------------------------------


def test_enqueue_writes_a_queued_job_and_event(store: JobStore) -> None:
    """A new job is queued with every field at its starting value and one audit event."""
    job_id = enqueue(store)
    job = store.get(job_id)
    assert job is not None
    assert (
        job.rule,
        job.state,
        job.dedup_key,
        job.source_path,
        job.spec,
        job.viggle_job_id,
        job.attempts,
        job.next_attempt_at,
        job.created_at,
        job.updated_at,
    ) == ("dance", State.QUEUED, "k1", "/in/hero.png", make_spec(), None, 0, 0.0, T0, T0)
    assert store.events(job_id) == [Event(T0, None, State.QUEUED, "from /in/hero.png")]


def test_enqueue_with_a_known_dedup_key_creates_nothing(store: JobStore) -> None:
    """The same dedup key a second time returns None and adds no job and no event."""
    job_id = enqueue(store, key="same")
    again = store.enqueue(
        make_spec(character="other.png"), dedup_key="same", source_path="/in/other.png", at=T0 + 9
    )
    assert (again, store.latest(), store.events(job_id)) == (
        None,
        [store.get(job_id)],
        [Event(T0, None, State.QUEUED, "from /in/hero.png")],
    )


def test_get_unknown_job_is_none(store: JobStore) -> None:
    """Asking for an id that does not exist gives None."""
    assert store.get(999) is None


def test_counts_has_every_state(store: JobStore) -> None:
    """``counts`` lists all states, with zeros for the empty ones."""
    enqueue(store, key="a")
    enqueue(store, key="b")
    failed = enqueue(store, key="c")
    store.transition(failed, State.QUEUED, State.FAILED, at=T0)
    expected = dict.fromkeys(State, 0)
    expected.update({State.QUEUED: 2, State.FAILED: 1})
    assert store.counts() == expected


def test_source_states_lists_the_states_of_one_files_jobs(store: JobStore) -> None:
    """Every job made from a source path reports its state; other paths are not mixed in."""
    first = enqueue(store, key="a", source="/in/hero.png")
    enqueue(store, key="b", source="/in/hero.png")
    enqueue(store, key="c", source="/in/other.png")
    store.transition(first, State.QUEUED, State.CANCELLED, at=T0)
    assert (
        sorted(store.source_states("/in/hero.png")),
        store.source_states("/in/nothing.png"),
    ) == (sorted([State.CANCELLED, State.QUEUED]), [])


def test_due_respects_next_attempt_at(store: JobStore) -> None:
    """Only jobs whose next attempt has come are due, soonest first."""
    later = enqueue(store, key="later")
    now_job = enqueue(store, key="now")
    soon = enqueue(store, key="soon")
    assert store.update(later, State.QUEUED, next_attempt_at=T0 + 100) is True
    assert store.update(soon, State.QUEUED, next_attempt_at=T0 + 10) is True
    assert [j.id for j in store.due(State.QUEUED, now=T0)] == [now_job]
    assert [j.id for j in store.due(State.QUEUED, now=T0 + 10)] == [now_job, soon]
    assert [j.id for j in store.due(State.QUEUED, now=T0 + 100)] == [now_job, soon, later]
    assert store.due(State.RENDERING, now=T0 + 100) == []


def test_update_is_conditional_on_the_state(store: JobStore) -> None:
    """``update`` changes nothing when the job has moved on."""
    job_id = enqueue(store)
    assert store.update(job_id, State.RENDERING, progress_pct=50.0) is False
    job = store.get(job_id)
    assert job is not None
    assert job.progress_pct is None


def test_update_refuses_unknown_columns(store: JobStore) -> None:
    """Only whitelisted columns may be updated (not the rule, not the dedup key)."""
    job_id = enqueue(store)
    with pytest.raises(StoreError) as excinfo:
        store.update(job_id, State.QUEUED, rule="x", dedup_key="y")
    assert str(excinfo.value) == "cannot update ['dedup_key', 'rule']"


# --- transitions ---------------------------------------------------------------------------


def test_transition_sets_fields_and_logs_an_event(store: JobStore) -> None:
    """A transition returns the moved job with its new fields and appends to the audit log."""
    job_id = job_in(store, State.SUBMITTING)
    job = store.transition(
        job_id,
        State.SUBMITTING,
        State.RENDERING,
        at=T0 + 50,
        detail="accepted",
        viggle_job_id="job_1",
        attempts=1,
    )
    assert (job.state, job.viggle_job_id, job.attempts, job.updated_at) == (
        State.RENDERING,
        "job_1",
        1,
        T0 + 50,
    )
    assert store.events(job_id) == [
        Event(T0, None, State.QUEUED, "from /in/hero.png"),
        Event(T0 + 1, State.QUEUED, State.PREPARING, ""),
        Event(T0 + 2, State.PREPARING, State.SUBMITTING, ""),
        Event(T0 + 50, State.SUBMITTING, State.RENDERING, "accepted"),
    ]


def test_transition_is_compare_and_set(store: JobStore) -> None:
    """A transition from a state the job is not in raises and changes nothing."""
    job_id = job_in(store, State.RENDERING)
    with pytest.raises(TransitionError) as excinfo:
        store.transition(job_id, State.QUEUED, State.PREPARING, at=T0 + 99)
    job = store.get(job_id)
    assert job is not None
    assert (str(excinfo.value), job.state, len(store.events(job_id))) == (
        f"job {job_id} is not queued (wanted → preparing)",
        State.RENDERING,
        4,
    )


def test_transition_of_an_unknown_job_is_a_transition_error(store: JobStore) -> None:
    """A missing job cannot be moved."""
    with pytest.raises(TransitionError) as excinfo:
        store.transition(42, State.QUEUED, State.PREPARING, at=T0)
    assert str(excinfo.value) == "job 42 is not queued (wanted → preparing)"


def test_transition_refuses_unknown_columns(store: JobStore) -> None:
    """Fields outside the settable columns are refused before any SQL runs."""
    job_id = enqueue(store)
    transition: Callable[..., Job] = store.transition  # to pass a name that is not an identifier
    with pytest.raises(StoreError) as excinfo:
        transition(job_id, State.QUEUED, State.PREPARING, at=T0, rule="x", **{"state='done'--": 1})
    job = store.get(job_id)
    assert job is not None
    assert (str(excinfo.value), job.state, job.rule) == (
        "cannot set ['rule', \"state='done'--\"] in a transition",
        State.QUEUED,
        "dance",
    )


@pytest.mark.parametrize(("src", "dst"), ALLOWED_PAIRS, ids=lambda s: str(s))
def test_every_allowed_transition_works(store: JobStore, src: State, dst: State) -> None:
    """Each pair in the ALLOWED table moves a job from ``src`` to ``dst``."""
    job_id = job_in(store, src)
    moved = store.transition(job_id, src, dst, at=T0 + 100, detail="table")
    assert (moved.state, store.events(job_id)[-1]) == (dst, Event(T0 + 100, src, dst, "table"))


@pytest.mark.parametrize(("src", "dst"), DISALLOWED_PAIRS, ids=lambda s: str(s))
def test_every_disallowed_transition_is_refused(store: JobStore, src: State, dst: State) -> None:
    """Each pair missing from ALLOWED is a StoreError (not a CAS miss) and moves nothing."""
    job_id = job_in(store, src)
    events_before = store.events(job_id)
    with pytest.raises(StoreError) as excinfo:
        store.transition(job_id, src, dst, at=T0 + 100)
    job = store.get(job_id)
    assert job is not None
    assert (excinfo.type, str(excinfo.value), job.state, store.events(job_id)) == (
        StoreError,
        f"transition {src} → {dst} is not allowed",
        src,
        events_before,
    )


def test_transition_table_covers_every_state() -> None:
    """ALLOWED has a row per state; terminal states only go back to queued (a retry)."""
    assert (
        set(ALLOWED),
        {s: ALLOWED[s] for s in TERMINAL},
        IN_FLIGHT,
        allowed(State.SUBMITTING, State.UNCERTAIN),
        allowed(State.UNCERTAIN, State.SUBMITTING),
    ) == (
        set(State),
        dict.fromkeys(TERMINAL, frozenset({State.QUEUED})),
        frozenset({State.SUBMITTING, State.RENDERING}),
        True,
        False,
    )


# --- recovery at start-up ------------------------------------------------------------------


def test_recover_marks_submitting_uncertain_and_requeues_preparing(
    backend: Backend, store: JobStore
) -> None:
    """submitting → uncertain (never resubmitted), preparing → queued, rendering untouched."""
    submitting = job_in(store, State.SUBMITTING)
    preparing = store.enqueue(make_spec(), dedup_key="p", source_path="/in/p.png", at=T0)
    rendering = store.enqueue(make_spec(), dedup_key="r", source_path="/in/r.png", at=T0)
    assert preparing is not None
    assert rendering is not None
    store.transition(preparing, State.QUEUED, State.PREPARING, at=T0)
    for src, dst in itertools.pairwise(path_to(State.RENDERING)):
        store.transition(rendering, src, dst, at=T0)
    uncertain = Leases(backend, store).recover(at=T0 + 500)
    states = {
        job_id: job.state
        for job_id in (submitting, preparing, rendering)
        if (job := store.get(job_id)) is not None
    }
    assert (uncertain, states, store.events(submitting)[-1]) == (
        [submitting],
        {submitting: State.UNCERTAIN, preparing: State.QUEUED, rendering: State.RENDERING},
        Event(
            T0 + 500,
            State.SUBMITTING,
            State.UNCERTAIN,
            "service stopped while submitting; outcome unknown",
        ),
    )


def test_recover_with_nothing_to_do_changes_nothing(backend: Backend, store: JobStore) -> None:
    """A clean start-up reports no uncertain jobs."""
    job_id = enqueue(store)
    assert (Leases(backend, store).recover(at=T0), store.events(job_id)) == (
        [],
        [Event(T0, None, State.QUEUED, "from /in/hero.png")],
    )


def test_a_batch_commits_its_writes_together(store: JobStore, open_as: OpenAs) -> None:
    """Inside a batch each write is all-or-nothing; the batch commits once, or not at all."""
    other = JobStore(open_as("other-host"))
    with store.batch():
        first = enqueue(store, key="b1", source="/in/b1.png")
        with pytest.raises(BudgetExceededError):  # its UPDATE ran, then the check refused
            store.transition(
                first,
                State.QUEUED,
                State.PREPARING,
                at=T0,
                spend=Spend("render", 1.0, "2023-11-14"),
                daily_cap=0.5,
            )
        inside = store.get(first)
        seen_inside = inside is not None and inside.state == State.QUEUED
    with pytest.raises(RuntimeError), store.batch():
        enqueue(store, key="b2", source="/in/b2.png")
        raise RuntimeError("boom")
    after = other.get(first)
    assert (seen_inside, after and after.state, other.by_dedup_key("b2") is not None) == (
        True,
        State.QUEUED,
        False,
    )
