"""A file a dead host had claimed is rendered by the survivor without waiting for a rescan
(issue 19 §5): two hosts on one PostgreSQL store, the survivor a real running service.

Host alpha claims a settled input (the first step of its intake) and dies before queuing it.
Host beta, seeing the file while alpha still looked alive, leaves it to alpha and forgets it.
Before issue 19 it looked again only at its next rescan (here: in an hour); now its take-over
lets go of alpha's claims and settles those files again at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.drills.service import tapped_logs
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.clients import input_claimer
from viggle_watch.app.service import Service
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.states import State


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=0.2)) as running:
        yield running


def host(make_config: MakeConfig, emu: RunningEmulator, url: str, name: str) -> Service:
    config = make_config(
        emu.url,
        state_dir=f"state-{name}",
        store={"url": url, "host": name, "lease": "10s"},
        polling_interval="200ms",
        rescan_interval="1h",  # only the take-over can bring the file back in time
    )
    return build_service(config, ApiKey(KEY), tick_interval_s=0.1)


def test_the_survivor_renders_a_file_its_dead_claimer_never_queued(
    emu: RunningEmulator, make_config: MakeConfig, workspace: Workspace, pg_url: str
) -> None:
    beta = host(make_config, emu, pg_url, "beta")
    alpha = host(make_config, emu, pg_url, "alpha")  # built, never started: it dies at once
    try:
        with tapped_logs(logging.DEBUG) as logs:
            beta.start()
            try:
                alpha.keeper.register(time.time())  # its heartbeat row, as its start writes it
                staged = workspace.root / "hero.png"
                staged.write_bytes(workspace.character(seed=5))
                st = staged.stat()
                path = workspace.watch / "hero.png"
                claim = input_claimer(HostStore(alpha.db), alpha.config)
                assert claim is not None and claim(path, st.st_size, st.st_mtime_ns, time.time())
                staged.rename(path)  # whole, its size and mtime kept: alpha's claim holds
                wait_for(
                    lambda: bool(logs.events("input_claimed_elsewhere")),
                    timeout_s=9,  # within alpha's lease (10 s): it still looks alive
                    what="beta to leave the file to alpha",
                )
                queued_while_alive = sum(beta.store.counts().values())
                wait_for(
                    lambda: beta.store.counts()[State.DONE] == 1,
                    timeout_s=60,  # before issue 19: not until the rescan, an hour on
                    what="beta to render the file alpha had claimed",
                )
                (job,) = beta.store.latest(limit=10)
            finally:
                beta.stop()
    finally:
        alpha.db.close()
    subs = requests.get(f"{emu.url}/_sim/stats", timeout=5).json()["render_submissions"]
    released = logs.events("inputs_released")
    assert (queued_while_alive, len(subs), job.owner, job.spec.character.path) == (
        0,
        1,
        "beta",
        str(path),
    )
    assert [(e["from_host"], e["count"]) for e in released] == [("alpha", 1)]
