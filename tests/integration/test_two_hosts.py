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
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace, drop
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.service import Service
from viggle_watch.clock import day_of
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.atomic import download_tag, part_path
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


def test_a_host_taking_over_a_download_never_resumes_the_others_part_file(
    stepper_for: Any, workspace: Workspace, pg_url: str
) -> None:
    """Issue 14 §6, two hosts on PostgreSQL: alpha's download breaks off half-way and alpha
    falls silent; beta takes the job over after the lease. Each part file is named after the
    job and its holder, so beta starts its own (never appending to alpha's bytes); the video
    published is exactly what the CDN serves, and alpha's left-over part is removed."""
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(rate_truncate_download=1.0))) as e:
        hosts = [
            stepper_for(
                e.url, state_dir=f"state-{n}", store={"url": pg_url, "host": n, "lease": "10s"}
            )
            for n in ("alpha", "beta")
        ]
        alpha, beta = hosts
        make_character_png(workspace.watch / "hero.png")
        assert alpha.ingest() == 1
        mine = part_path(workspace.output / "hero__dance.mp4", download_tag(1, "alpha"))
        alpha.run_until(mine.exists)
        half = mine.read_bytes()
        e.emulator.set_faults(Faults())
        beta.clock.advance(alpha.clock.time() - beta.clock.time() + 11)  # alpha is silent
        beta.service.keep_leases(beta.clock.time())
        beta.run_until(lambda: beta.state() == State.DONE)
        job = beta.service.store.get(1)
        assert job is not None and job.viggle_job_id and job.output_path
        status = requests.get(f"{e.url}/api/render/{job.viggle_job_id}", timeout=10).json()
        served = hashlib.sha256(requests.get(status["cdn_url"], timeout=10).content).hexdigest()
    video = Path(job.output_path)
    assert (job.owner, hashlib.sha256(video.read_bytes()).hexdigest()) == ("beta", served)
    assert len(half) < video.stat().st_size
    assert not mine.exists()  # alpha's left-over, cleared once the job was done
    assert not list(workspace.output.glob("*.part"))
