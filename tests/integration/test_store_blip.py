"""Issue 19 §2: the store goes away right after paid POSTs and comes back. Every answer (the
Viggle job id) reaches the store once it is back, or through the local journal when the service
stops during the blip; nothing is paid twice, no job is left in ``submitting``.

Two hosts on one real PostgreSQL, reached through a TCP forwarder the test cuts
(``tests/support/pgproxy.py``): to a host that is what a stopped server looks like — its
connections drop, new ones fail. The emulator holds each request ``DELAY_S`` before it acts on
it, so the cut falls between the POST leaving and its answer coming back.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.cli import stop
from tests.support.drills.service import start_service
from tests.support.pgproxy import proxied
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace, drop
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.clock import day_of
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.render.journal import JOURNAL, Journal
from viggle_watch.render.unrecorded import STUCK_AFTER_S, SWEEP_EVERY_S
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.postgres import PostgresDatabase
from viggle_watch.store.states import State

DELAY_S = 2.0  # the emulator sits on each request this long before it acts on it (and charges)
RENDER_POST = "POST /api/render"


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=0.5)) as running:
        yield running


@pytest.fixture
def observer(pg_url: str) -> Iterator[JobStore]:
    """The store as the test sees it: straight to the server, never through the cut."""
    db = PostgresDatabase.open(pg_url, host="observer")
    try:
        yield JobStore(db)
    finally:
        db.close()


def stats(emu: RunningEmulator) -> dict[str, Any]:
    got: dict[str, Any] = requests.get(f"{emu.url}/_sim/stats", timeout=10).json()
    return got


def posts(emu: RunningEmulator) -> int:
    return int(stats(emu)["calls"].get(RENDER_POST, 0))


def paid(emu: RunningEmulator) -> list[dict[str, Any]]:
    subs: list[dict[str, Any]] = stats(emu)["render_submissions"]
    return subs


def answers_written(store: JobStore, job: Job) -> int:
    """How often the job's history says it went to rendering (its answer written)."""
    return sum(1 for e in store.events(job.id) if e.to_state == State.RENDERING)


def test_answers_to_paid_posts_reach_the_store_after_a_blip(
    stepper_for: Any, workspace: Workspace, pg_url: str, emu: RunningEmulator, observer: JobStore
) -> None:
    """Both hosts' POSTs are charged while the store is away; once it is back, each host
    writes its own answer: both jobs render and are done, each paid once."""
    with proxied(pg_url) as proxy:
        hosts: list[Stepper] = [
            stepper_for(
                emu.url, state_dir=f"state-{n}", store={"url": proxy.url, "host": n, "lease": "60s"}
            )
            for n in ("alpha", "beta")
        ]
        for n, host in enumerate(hosts):  # one job each, prepared (held) by its own host
            drop(workspace.watch / f"c{n}.png", workspace.character(seed=n + 1))
            host.ingest()
            host.service.preparer.tick(host.clock.time())
        assert {j.owner for j in observer.latest(state=State.PREPARING)} == {"alpha", "beta"}
        emu.emulator.set_faults(Faults(request_delay_s=DELAY_S))
        raised: list[str] = []

        def dispatch(host: Stepper) -> None:
            try:
                host.service.submitter.tick(host.clock.time())
            except Exception as exc:  # without the fix: the lost write ends the tick
                raised.append(str(exc))

        ticks = [threading.Thread(target=dispatch, args=(h,)) for h in hosts]
        for tick in ticks:
            tick.start()
        wait_for(lambda: posts(emu) == 2, what="both paid POSTs on their way")
        proxy.cut()
        for tick in ticks:
            tick.join(timeout=60)
        emu.emulator.set_faults(Faults())
        charged = paid(emu)
        stuck = [j.state for j in observer.latest()]
        proxy.restore()

        def done() -> bool:
            for host in hosts:
                host.step(0.5)
            return all(j.state == State.DONE for j in observer.latest())

        wait_for(done, timeout_s=60, what="both jobs done once the store is back")
        jobs = observer.latest()
        journals = [workspace.root / f"state-{n}" / JOURNAL for n in ("alpha", "beta")]
        assert (len(charged), stuck) == (2, [State.SUBMITTING] * 2)  # the blip hit both answers
        assert (
            len(paid(emu)),
            {j.viggle_job_id for j in jobs} == {s["job_id"] for s in charged},
            [answers_written(observer, j) for j in jobs],
            observer.spent_on(day_of(hosts[0].clock.time())),
            [p.exists() for p in journals],
        ) == (2, True, [1, 1], 2.0, [False, False])


def test_answers_kept_through_a_stop_during_the_blip_are_written_at_the_next_start(
    make_config: MakeConfig,
    workspace: Workspace,
    pg_url: str,
    emu: RunningEmulator,
    observer: JobStore,
    tmp_path: Path,
) -> None:
    """Host alpha (a real process) is stopped while the store is away, with the answer to its
    paid POST unwritten: the answer is in its journal, and its next start writes it before
    anything else — the job renders instead of becoming ``uncertain``. Host beta runs too."""
    with proxied(pg_url) as proxy:
        store = {"url": proxy.url, "host": "alpha", "lease": "60s"}
        make_config(emu.url, state_dir="state-alpha", polling_interval="200ms", store=store)
        config = workspace.root / "alpha.yaml"
        shutil.copy(workspace.root / "config.yaml", config)
        journal = Journal(workspace.root / "state-alpha" / JOURNAL)
        log = tmp_path / "alpha.log"
        emu.emulator.set_faults(Faults(request_delay_s=DELAY_S))
        alpha = start_service(config, log)
        beta = None
        try:
            wait_for(lambda: "service_started" in log.read_text(), timeout_s=60, what="alpha up")
            for n in range(2):
                drop(workspace.watch / f"c{n}.png", workspace.character(seed=n + 1))
            wait_for(lambda: posts(emu) >= 1, timeout_s=60, what="a paid POST on its way")
            proxy.cut()

            def kept() -> bool:  # every charged render's id is in alpha's journal
                ids = {a.viggle_job_id for a in journal.load()}
                return bool(paid(emu)) and {s["job_id"] for s in paid(emu)} <= ids

            wait_for(kept, timeout_s=30, what="the answers kept in alpha's journal")
            stop(alpha, 60)  # a clean stop while the store is still away
            in_journal = sorted(str(a.viggle_job_id) for a in journal.load() if a.viggle_job_id)
            emu.emulator.set_faults(Faults())
            proxy.restore()
            beta_config = make_config(
                emu.url,
                state_dir="state-beta",
                polling_interval="200ms",
                store={"url": proxy.url, "host": "beta", "lease": "60s"},
            )
            beta = build_service(beta_config, ApiKey(KEY), tick_interval_s=0.1)
            beta.start()
            alpha = start_service(config, log)
            wait_for(
                lambda: [j.state for j in observer.latest()] == [State.DONE] * 2,
                timeout_s=90,
                what="both jobs done",
            )
        finally:
            stop(alpha, 60)
            if beta is not None:
                beta.stop()
    charged = paid(emu)
    jobs = observer.latest()
    rendered = Counter(str(s["ref_image_sha256"]) for s in charged)
    assert in_journal and set(in_journal) <= {str(j.viggle_job_id) for j in jobs}
    assert (
        len(charged),
        max(rendered.values()),
        [answers_written(observer, j) for j in jobs],
        [j.state for j in observer.latest(state=State.UNCERTAIN)],
        journal.path.exists(),
        "outcome_journal_replayed" in log.read_text(),
    ) == (2, 1, [1, 1], [], False, True)


def test_a_submission_left_without_an_answer_is_made_uncertain_by_its_host(
    stepper_for: Any, workspace: Workspace, emu: RunningEmulator
) -> None:
    """A job of this host's in ``submitting``, with no request on the wire and no answer
    kept (its answer lost some other way), no longer holds a render slot for ever: after
    ``STUCK_AFTER_S`` its own host makes it ``uncertain``, saying why."""
    host = stepper_for(emu.url)
    drop(workspace.watch / "c.png", workspace.character())
    host.ingest()
    now = host.clock.time()
    host.service.preparer.tick(now)
    store = host.service.store
    store.transition(1, State.PREPARING, State.SUBMITTING, at=now, attempts=1)  # then nothing
    host.step(1.0)  # first seen idle
    host.step(STUCK_AFTER_S - SWEEP_EVERY_S)
    before = host.state()
    host.step(2 * SWEEP_EVERY_S)
    job = store.get(1)
    assert job is not None
    assert (before, job.state, job.error_message) == (
        State.SUBMITTING,
        State.UNCERTAIN,
        "no answer to its request was recorded 180 s after the request ended; outcome unknown",
    )
