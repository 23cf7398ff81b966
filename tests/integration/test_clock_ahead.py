"""A host whose clock runs ahead (issue 19 §4): with a 10 s lease and a clock 30 s ahead, it
took over a live host's jobs, judging the other's lease by its own clock. Two services on one
real PostgreSQL store now both work on the database's time: the live host keeps its job."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.service import Service
from viggle_watch.clock import SystemClock
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State

AHEAD_S = 30.0


class AheadClock(SystemClock):
    """A machine whose clock runs 30 s ahead of everyone's."""

    def time(self) -> float:
        return time.time() + AHEAD_S


@pytest.fixture
def hosts(
    emulator: RunningEmulator, make_config: MakeConfig, pg_url: str
) -> Iterator[tuple[Service, Service]]:
    made: list[Service] = []

    def host(name: str, clock: SystemClock) -> Service:
        store = {"url": pg_url, "host": name, "lease": "10s"}
        config = make_config(emulator.url, state_dir=f"state-{name}", store=store)
        made.append(build_service(config, ApiKey(KEY), clock=clock))
        return made[-1]

    try:
        yield host("alpha", SystemClock()), host("beta", AheadClock())
    finally:
        for service in made:
            service.db.close()


def test_a_host_whose_clock_runs_ahead_leaves_a_live_hosts_job_alone(
    hosts: tuple[Service, Service], workspace: Workspace
) -> None:
    alpha, beta = hosts
    make_character_png(workspace.watch / "hero.png", seed=3)
    now = time.time()
    alpha.intake.rescan(now)
    alpha.intake.tick(now)
    alpha.intake.tick(now + alpha.config.settle + 1)
    for _ in range(50):  # alpha sends it to Viggle and holds it while it renders
        alpha.render_once(alpha.clock.time())
        job = alpha.store.get(1)
        if job is not None and job.state == State.RENDERING:
            break
        time.sleep(0.1)
    alpha.keep_leases(alpha.clock.time())  # alpha is alive: its lease runs 10 s from now
    beta.keep_leases(beta.clock.time())
    job = alpha.store.get(1)
    assert job is not None and (job.state, job.owner) == (State.RENDERING, "alpha")
    assert [e.detail for e in alpha.store.events(1) if "taken over" in e.detail] == []
    assert abs(beta.clock.time() - time.time()) < 2.0  # beta works on the database's time
