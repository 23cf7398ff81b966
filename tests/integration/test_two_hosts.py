"""Two services on one PostgreSQL store, watching one folder: every input rendered once.

Real threads, real polling observers, the emulator over loopback; the two services differ
only in ``store.host`` and ``state_dir`` (as two machines would). The SIGKILL take-over runs
with real processes in ``bench/drills`` (its fast variant in tests/e2e).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace, drop
from viggle_watch.apikey import ApiKey
from viggle_watch.app.service import Service, build_service
from viggle_watch.clock import day_of
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.store.states import State

INPUTS = 12


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=0.5)) as running:
        yield running


@pytest.fixture
def two_hosts(
    emu: RunningEmulator, make_config: MakeConfig, pg_url: str
) -> Iterator[tuple[Service, Service]]:
    services: list[Service] = []
    try:
        for name in ("alpha", "beta"):
            config = make_config(
                emu.url,
                state_dir=f"state-{name}",
                polling_interval="200ms",
                store={"url": pg_url, "host": name, "lease": "10s"},
                budget={"daily_credits": 9},
            )
            service = build_service(config, ApiKey(KEY), tick_interval_s=0.1)
            service.start()
            services.append(service)
        yield services[0], services[1]
    finally:
        for service in services:
            service.stop()


def test_two_hosts_render_every_input_exactly_once_within_one_budget(
    two_hosts: tuple[Service, Service], emu: RunningEmulator, workspace: Workspace
) -> None:
    alpha, beta = two_hosts
    shas = set()
    for n in range(INPUTS):
        data = workspace.character(seed=n + 1)
        shas.add(hashlib.sha256(data).hexdigest())
        drop(workspace.watch / f"c{n:02}.png", data)

    def settled() -> bool:
        counts = alpha.store.counts()
        return counts[State.DONE] + counts[State.WAITING_BUDGET] == INPUTS

    wait_for(settled, timeout_s=90, what="every job done or waiting for budget")
    subs = requests.get(f"{emu.url}/_sim/stats", timeout=5).json()["render_submissions"]
    rendered = Counter(str(s["ref_image_sha256"]) for s in subs)
    jobs = alpha.store.latest(limit=100)
    by_host = Counter(j.owner for j in jobs if j.state == State.DONE)
    outputs = sorted(p.name for p in workspace.output.glob("*.mp4"))
    assert (
        max(rendered.values()),
        set(rendered) <= shas,
        len(subs),  # the 1-second scene costs 1 credit: a daily cap of 9 lets 9 through
        alpha.store.spent_on(day_of(time.time())),
        len(outputs),
        beta.store.counts()[State.WAITING_BUDGET],
    ) == (1, True, 9, 9.0, 9, INPUTS - 9)
    assert set(by_host) <= {"alpha", "beta"}


def cli(*args: str) -> str:
    done = run_cli(*args, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_status_and_jobs_work_from_either_host(
    two_hosts: tuple[Service, Service], workspace: Workspace
) -> None:
    alpha, beta = two_hosts
    drop(workspace.watch / "solo.png", workspace.character(seed=99))
    wait_for(lambda: alpha.store.counts()[State.DONE] == 1, timeout_s=60, what="job done")
    beta.keep_leases(time.time())
    config = str(workspace.root / "config.yaml")  # the last written: host beta's
    status = json.loads(cli("status", "--json", "--config", config))
    shown = cli("jobs", "show", "1", "--config", config)
    text = cli("status", "--config", config)
    assert (
        status["store"]["shared"],
        status["store"]["host"],
        sorted(h["name"] for h in status["hosts"]),
        all(h["alive"] for h in status["hosts"]),
        status["jobs"][0]["host"] in ("alpha", "beta"),
        "done" in shown,
        "this is host beta" in text,
        "host alpha: up" in text,
    ) == (True, "beta", ["alpha", "beta"], True, True, True, True, True)
