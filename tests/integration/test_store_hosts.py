"""Several hosts on one store: claims, leases, take-over, one budget, one rate, input claims.

Each test runs on both backends where the behaviour is the same (claims and leases work on a
SQLite file too); what only a shared store does (recovering only one's own rows) is tested
on PostgreSQL, and skipped with a reason on SQLite.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, cast

import pytest

from tests.support.store import OpenAs
from viggle_watch.app.keeper import Keeper
from viggle_watch.errors import BudgetExceededError, InFlightLimitError, StoreError, TransitionError
from viggle_watch.render.breaker import CircuitBreaker
from viggle_watch.render.submitter import SubmitSettings, Submitter
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.assets import AssetKind, AssetStatus, AssetStore
from viggle_watch.store.backend import Backend
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import InputRef, JobSpec, JobStore, Spend
from viggle_watch.store.leases import Leases
from viggle_watch.store.states import State

T0 = 1_700_000_000.0
DAY = "2023-11-14"
LEASE = 30.0


def spec(n: int) -> JobSpec:
    return JobSpec(
        rule="dance",
        character=InputRef("character", f"/in/c{n}.png", f"{n:064x}", 100),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 999),
        model="V4_Preview",
        output_name=f"c{n}__dance",
    )


def fill(store: JobStore, count: int) -> list[int]:
    ids = [
        store.enqueue(spec(n), dedup_key=f"k{n}", source_path=f"/in/c{n}.png", at=T0)
        for n in range(count)
    ]
    assert None not in ids
    return [i for i in ids if i is not None]


def shared_only(store: JobStore) -> None:
    if not store._db.shared:
        pytest.skip("only a shared (PostgreSQL) store has other hosts to hold jobs")


def shared_hosts(open_as: OpenAs) -> tuple[Backend, Backend, JobStore, JobStore]:
    """Hosts a and b on the store under test (``LEASE``); skipped unless the store is shared."""
    da, db = open_as("a"), open_as("b")
    a, b = JobStore(da, lease_s=LEASE), JobStore(db, lease_s=LEASE)
    shared_only(b)
    return da, db, a, b


def claimed_by(store: JobStore) -> int:
    """One new job, claimed while queued by ``store``'s host; its id."""
    (job_id,) = fill(store, 1)
    store.due(State.QUEUED, T0)
    return job_id


def test_a_claimed_job_is_not_due_for_another_host_until_it_is_released(
    open_as: OpenAs,
) -> None:
    """Held work is claimed only by its holder; a silent holder's queued job is freed by the
    survivor's take-over (never by a bare due())."""
    _da, db, a, b = shared_hosts(open_as)
    (job_id,) = fill(a, 1)
    first = a.due(State.QUEUED, T0)
    steps = [
        [j.owner for j in first],
        b.due(State.QUEUED, T0 + 1),
        [j.id for j in a.due(State.QUEUED, T0 + 2)],  # its own holder may claim it again
        b.due(State.QUEUED, T0 + 2 + LEASE + 1),  # silent now, but not free yet
    ]
    HostStore(db).take_over(T0 + 2 + LEASE + 1, lease_s=LEASE)
    steps.append([(j.id, j.owner) for j in b.due(State.QUEUED, T0 + 2 + LEASE + 1)])
    assert steps == [["a"], [], [job_id], [], [(job_id, "b")]]


def test_heartbeat_keeps_the_lease(open_as: OpenAs) -> None:
    _, _, a, b = shared_hosts(open_as)
    job_id = claimed_by(a)
    a.transition(job_id, State.QUEUED, State.PREPARING, at=T0)
    kept = a.heartbeat(T0 + LEASE - 1)
    assert (kept, b.due(State.PREPARING, T0 + LEASE + 5), a.holders()) == (1, [], {job_id: "a"})


def test_concurrent_claims_hand_each_job_to_exactly_one_host(open_as: OpenAs) -> None:
    stores = [JobStore(open_as(f"h{i}"), lease_s=LEASE) for i in range(4)]
    ids = fill(stores[0], 120)
    got: Counter[int] = Counter()
    lock = threading.Lock()

    def claim(store: JobStore) -> None:
        for _ in range(20):
            for job in store.due(State.QUEUED, T0, limit=7):
                try:
                    store.transition(job.id, State.QUEUED, State.PREPARING, at=T0)
                except Exception:  # noqa: S112 - another host moved it: counted below
                    continue
                with lock:
                    got[job.id] += 1

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (sorted(got), max(got.values())) == (ids, 1)


def test_the_same_input_enqueued_by_two_hosts_at_once_is_one_job(open_as: OpenAs) -> None:
    a, b = JobStore(open_as("a")), JobStore(open_as("b"))
    results: list[int | None] = []
    barrier = threading.Barrier(2)

    def put(store: JobStore) -> None:
        barrier.wait()
        results.append(store.enqueue(spec(1), dedup_key="same", source_path="/in/c1.png", at=T0))

    threads = [threading.Thread(target=put, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made = [r for r in results if r is not None]
    assert (len(made), results.count(None), a.counts()[State.QUEUED]) == (1, 1, 1)


def test_recovery_on_a_shared_store_leaves_a_live_hosts_submission_alone(open_as: OpenAs) -> None:
    _, _db, a, b = shared_hosts(open_as)
    job_id = claimed_by(a)
    a.transition(job_id, State.QUEUED, State.PREPARING, at=T0)
    a.transition(job_id, State.PREPARING, State.SUBMITTING, at=T0)
    made = Leases(_db, b).recover(T0 + 1)  # b starts while a is submitting
    reaped_early = Leases(_db, b).reap(T0 + 1)
    reaped = Leases(_db, b).reap(T0 + LEASE + 1)  # a fell silent
    job = b.get(job_id)
    assert job is not None
    assert (made, reaped_early, reaped, job.state, b.events(job_id)[-1].detail) == (
        [],
        [],
        [job_id],
        State.UNCERTAIN,
        "host a stopped while submitting; outcome unknown",
    )


def test_a_dead_hosts_rendering_job_is_polled_by_the_survivor(open_as: OpenAs) -> None:
    _da, db, a, b = shared_hosts(open_as)
    job_id = rendering_job(a)
    early = b.due(State.RENDERING, T0 + 1)
    HostStore(db).take_over(T0 + LEASE + 1, lease_s=LEASE)
    taken = b.due(State.RENDERING, T0 + LEASE + 1)
    assert (early, [(j.id, j.owner, j.viggle_job_id) for j in taken]) == (
        [],
        [(job_id, "b", "vj1")],
    )


def test_a_host_whose_lease_ran_out_cannot_submit_any_more(open_as: OpenAs) -> None:
    """A stalls past its lease; b re-queues and re-admits the job; A's paid step is refused."""
    _da, _db, a, b = shared_hosts(open_as)
    job_id = claimed_by(a)
    a.transition(job_id, State.QUEUED, State.PREPARING, at=T0)
    Leases(_db, b).reap(T0 + LEASE + 1)
    b.due(State.QUEUED, T0 + LEASE + 1)
    b.transition(job_id, State.QUEUED, State.PREPARING, at=T0 + LEASE + 1)
    with pytest.raises(TransitionError):
        a.transition(job_id, State.PREPARING, State.SUBMITTING, at=T0 + LEASE + 2, mine=True)
    b.transition(job_id, State.PREPARING, State.SUBMITTING, at=T0 + LEASE + 2, mine=True)
    job = b.get(job_id)
    assert job is not None and (job.state, job.owner) == (State.SUBMITTING, "b")


def test_a_dead_hosts_character_intent_is_made_uncertain_before_its_job_is_requeued(
    open_as: OpenAs,
) -> None:
    da, db = open_as("a"), open_as("b")
    a = JobStore(da, lease_s=LEASE)
    shared_only(a)
    job_id = claimed_by(a)
    a.transition(job_id, State.QUEUED, State.PREPARING, at=T0)
    AssetStore(da).begin_create(AssetKind.CHARACTER, "c" * 64, job_id=job_id, at=T0, credits=1)
    b_jobs, b_assets = JobStore(db, lease_s=LEASE), AssetStore(db)
    keeper = Keeper(db, b_jobs, b_assets, HostStore(db))
    b_jobs.due(State.PREPARING, T0 + LEASE + 1)  # the survivor's preparer may run first
    keeper.keep(T0 + LEASE + 1)
    asset, job = b_assets.get(AssetKind.CHARACTER, "c" * 64), b_jobs.get(job_id)
    assert asset is not None and job is not None
    assert (asset.status, job.state, job.owner) == (AssetStatus.UNCERTAIN, State.QUEUED, None)


def race_to_submit(open_as: OpenAs, count: int, **limits: Any) -> tuple[Counter[str], JobStore]:
    """Three hosts move ``count`` preparing jobs to submitting at once, under ``limits``;
    return how many went ("sent") and how many a limit stopped (its error's name)."""
    stores = [JobStore(open_as(name)) for name in ("a", "b", "c")]
    ids = fill(stores[0], count)
    for job_id in ids:
        stores[0].transition(job_id, State.QUEUED, State.PREPARING, at=T0)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def submit(store: JobStore, mine: list[int]) -> None:
        for job_id in mine:
            try:
                store.transition(job_id, State.PREPARING, State.SUBMITTING, at=T0, **limits)
                outcome = "sent"
            except (BudgetExceededError, InFlightLimitError) as exc:
                outcome = type(exc).__name__
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=submit, args=(s, ids[i::3])) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, stores[1]


def test_the_daily_cap_holds_across_hosts(open_as: OpenAs) -> None:
    outcomes, store = race_to_submit(open_as, 30, spend=Spend("render", 4.0, DAY), daily_cap=50.0)
    assert (outcomes, store.spent_on(DAY), store.counts()[State.PREPARING]) == (
        Counter({"sent": 12, "BudgetExceededError": 18}),
        48.0,
        18,
    )


def test_the_render_slots_are_counted_across_hosts(open_as: OpenAs) -> None:
    outcomes, store = race_to_submit(open_as, 24, max_in_flight=5)
    counts = store.counts()
    assert (outcomes, counts[State.SUBMITTING], counts[State.PREPARING]) == (
        Counter({"sent": 5, "InFlightLimitError": 19}),
        5,
        19,
    )


def test_an_input_is_claimed_by_one_host_until_it_changes_or_its_host_dies(
    open_as: OpenAs,
) -> None:
    a, b = HostStore(open_as("a")), HostStore(open_as("b"))
    for hosts in (a, b):
        hosts.register(instance=hosts.host, pid=1, now=T0)

    def claim(hosts: HostStore, size: int, now: float) -> bool:
        return hosts.claim_input("/in/x.png", size, 5, now=now, alive_s=LEASE, ttl_s=3600)

    steps = [
        claim(a, 10, T0),
        claim(b, 10, T0 + 1),  # a holds it
        claim(a, 10, T0 + 2),  # a may look again
        claim(b, 11, T0 + 3),  # the file changed: new work, b's now
        claim(a, 11, T0 + 4),
    ]
    b.seen(T0 + 100)
    steps.append(claim(a, 11, T0 + 100))  # b is alive
    steps.append(claim(a, 11, T0 + 200))  # b has not been seen for > LEASE: taken over
    assert steps == [True, False, True, True, False, False, True]


def test_the_rate_limit_is_one_bucket_for_every_host(open_as: OpenAs) -> None:
    a, b = HostStore(open_as("a")), HostStore(open_as("b"))
    waits = [h.take_token("api", rate_per_s=2.0, burst=3.0, now=T0) for h in (a, b, a, b, a)]
    later = b.take_token("api", rate_per_s=2.0, burst=3.0, now=T0 + 10)
    assert (waits, later) == ([0.0, 0.0, 0.0, 0.5, 1.0], 0.0)


def test_asset_recovery_on_a_shared_store_spares_a_live_hosts_intent(open_as: OpenAs) -> None:
    da, db, a, _b = shared_hosts(open_as)
    job_id = claimed_by(a)
    AssetStore(da).begin_create(AssetKind.CHARACTER, "c" * 64, job_id=job_id, at=T0)
    early = AssetStore(db).recover(T0 + 1)
    dead = AssetStore(db).recover(T0 + LEASE + 1, dead_only=True)
    asset = AssetStore(db).get(AssetKind.CHARACTER, "c" * 64)
    assert asset is not None
    assert (early, [x.key for x in dead], asset.status) == (
        [],
        ["c" * 64],
        AssetStatus.UNCERTAIN,
    )


@pytest.mark.parametrize("taken_over_by_person", [False, True])
def test_a_late_answer_to_a_taken_over_submission_is_recorded(
    open_as: OpenAs, taken_over_by_person: bool
) -> None:
    """Host a's POST answered after its lease ran out and b made the job uncertain: the
    answer (the Viggle job id) moves the job to rendering, unless a person acted first."""
    da, db = open_as("a"), open_as("b")
    a, b = JobStore(da, lease_s=LEASE), JobStore(db, lease_s=LEASE)
    (job_id,) = fill(a, 1)
    a.transition(job_id, State.QUEUED, State.PREPARING, at=T0)
    job = a.transition(job_id, State.PREPARING, State.SUBMITTING, at=T0)
    b.transition(job_id, State.SUBMITTING, State.UNCERTAIN, at=T0 + LEASE + 1)
    if taken_over_by_person:
        b.transition(job_id, State.UNCERTAIN, State.CANCELLED, at=T0 + LEASE + 2)
    submitter = Submitter(
        # the client is never called: only the answer's bookkeeping is under test
        Wiring(a, cast(Any, None), lambda _job: None),
        AssetStore(da),
        SubmitSettings(max_in_flight=2, poll_interval_s=4.0),
        breaker=CircuitBreaker(),
    )
    submitter._rendering(job, "vj-late", T0 + LEASE + 3)
    after = a.get(job_id)
    assert after is not None
    expected = (State.CANCELLED, None) if taken_over_by_person else (State.RENDERING, "vj-late")
    assert (after.state, after.viggle_job_id) == expected


def test_a_lost_database_connection_is_an_error_then_reconnects(open_as: OpenAs) -> None:
    db = open_as("a")
    if db.dialect != "postgresql":
        pytest.skip("a SQLite file has no connection to lose")
    store = JobStore(db)
    fill(store, 1)
    with db.write() as conn:  # end every other session of this database: a server restart
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    other = open_as("b")
    with other.write() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    outcomes: list[object] = []
    for _ in range(2):
        try:
            outcomes.append(store.counts()[State.QUEUED])
        except StoreError as exc:
            outcomes.append(type(exc).__name__)
    assert outcomes == ["StoreUnavailableError", 1]  # a StoreError: the tick retries


def rendering_job(a: JobStore) -> int:
    job_id = claimed_by(a)
    for src, dst in ((State.QUEUED, State.PREPARING), (State.PREPARING, State.SUBMITTING)):
        a.transition(job_id, src, dst, at=T0)
    a.transition(job_id, State.SUBMITTING, State.RENDERING, at=T0, viggle_job_id="vj1")
    return job_id


def test_a_silent_hosts_jobs_are_taken_over_and_it_shows(open_as: OpenAs) -> None:
    da, db = open_as("a"), open_as("b")
    job_id = rendering_job(JobStore(da, lease_s=LEASE))
    b = HostStore(db)
    early = b.take_over(T0 + 1, lease_s=LEASE)
    taken = b.take_over(T0 + LEASE + 1, lease_s=LEASE)
    job = JobStore(db).get(job_id)
    assert job is not None
    assert (early, taken, job.owner, JobStore(db).events(job_id)[-1].detail) == (
        [],
        [(job_id, "a")],
        "b",
        "taken over from host a by b",
    )


def test_a_clean_stop_releases_the_hosts_jobs_and_inputs_at_once(open_as: OpenAs) -> None:
    da, db = open_as("a"), open_as("b")
    job_id = rendering_job(JobStore(da, lease_s=LEASE))
    a, b = HostStore(da), HostStore(db)
    for hosts in (a, b):
        hosts.register(instance=hosts.host, pid=42, now=T0)
    claimed = a.claim_input("/in/x.png", 1, 2, now=T0, alive_s=LEASE, ttl_s=3600)
    a.stopped(T0 + 1)
    taken = JobStore(db, lease_s=LEASE).due(State.RENDERING, T0 + 2)
    by_b = b.claim_input("/in/x.png", 1, 2, now=T0 + 2, alive_s=LEASE, ttl_s=3600)
    pids = {h.name: h.pid for h in b.hosts()}
    assert (claimed, [j.id for j in taken], by_b, pids) == (True, [job_id], True, {"a": 0, "b": 42})
