"""One live process per store.host (issue 19 §3), with real services on one PostgreSQL store.

The session advisory lock on the name goes with its connection: a PostgreSQL blip (here: the
lock's backend terminated) left the name free, a second service under it started, and both
rendered under one name (two copies of a video glued together). The heartbeat row names the
process that holds the name: a second service is refused (exit 75) while that process lives,
starts at once when it is gone from this machine, and a holder that finds its name taken
stops all work and exits 75.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.cli import key_env, run_cli, stop
from tests.support.drills.service import start_service
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.lock import LockedError
from viggle_watch.app.service import Service
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.errors import NoSchemaError, NotReadyError
from viggle_watch.store.hosts import Host
from viggle_watch.store.names import HostNames
from viggle_watch.store.postgres import HOST_LOCK, PostgresDatabase

LEASE_S = 10.0


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=0.2)) as running:
        yield running


@dataclass
class Made:
    """The services a test built: those running are stopped after it, the others closed."""

    running: list[Service] = field(default_factory=list)
    refused: list[Service] = field(default_factory=list)

    def stopped(self, service: Service) -> None:
        self.running.remove(service)
        service.stop()


@pytest.fixture
def services() -> Iterator[Made]:
    made = Made()
    yield made
    for service in made.running:
        service.stop()
    for service in made.refused:
        service.db.close()


def config_for(make_config: MakeConfig, emu: RunningEmulator, url: str, state: str) -> Any:
    """A service named ``alpha`` on the shared store with its own state dir (as on another
    machine); the file is ``workspace.root / "config.yaml"`` until the next call."""
    store = {"url": url, "host": "alpha", "lease": f"{LEASE_S:g}s"}
    return make_config(emu.url, state_dir=state, store=store, polling_interval="200ms")


def started(config: Any, services: Made) -> Service:
    service = build_service(config, ApiKey(KEY), tick_interval_s=0.1)
    try:
        service.start()
    except NotReadyError:
        services.refused.append(service)
        raise
    services.running.append(service)
    return service


def drop_name_lock(url: str, host: str) -> int:
    """What a PostgreSQL blip does to the name's session lock: its backend ends."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a"
            " JOIN pg_locks l ON l.pid = a.pid WHERE l.locktype = 'advisory'"
            " AND l.classid = %s AND a.application_name = %s AND a.datname = current_database()",
            [HOST_LOCK, f"viggle-watch@{host}"],
        ).fetchall()
    return len(rows)


def holder(url: str) -> Host | None:
    """The heartbeat row of the name ``alpha`` (None: none yet, or no schema yet)."""
    try:
        db = PostgresDatabase.open(url, host="alpha", readonly=True)
    except NoSchemaError:
        return None
    try:
        return HostNames(db).holder()
    finally:
        db.close()


def alpha_row(config: Path) -> dict[str, Any]:
    done = run_cli("status", "--json", "--config", str(config), env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return next(h for h in json.loads(done.stdout)["hosts"] if h["name"] == "alpha")


def test_a_second_service_under_a_live_name_is_refused_even_after_a_blip(
    emu: RunningEmulator,
    make_config: MakeConfig,
    workspace: Workspace,
    pg_url: str,
    services: Made,
) -> None:
    first = started(config_for(make_config, emu, pg_url, "state-a"), services)
    dropped = drop_name_lock(pg_url, "alpha")
    config_for(make_config, emu, pg_url, "state-b")  # the second service's config file
    config = workspace.root / "config.yaml"
    second = subprocess.Popen(
        [sys.executable, "-m", "viggle_watch", "run", "--config", str(config)],
        env=key_env(KEY),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = second.wait(timeout=30)  # before issue 19: it ran on, under the same name
    finally:
        stop(second, 30)
        assert second.stderr is not None
        said = second.stderr.read()
        second.stderr.close()
    shown = alpha_row(config)
    services.stopped(first)
    again = start_service(config)  # the first has stopped: the name is free
    try:
        wait_for(
            lambda: (h := holder(pg_url)) is not None and h.pid == again.pid,
            timeout_s=60,
            what="the second service to hold the name",
        )
    finally:
        stop(again, 30)
    assert (dropped, code, again.returncode) == (1, 75, 0)
    assert f"held by another running viggle-watch: pid {os.getpid()} on this machine" in said
    assert (shown["pid"], shown["alive"], shown["node"]) == (os.getpid(), True, os.uname()[1])
    assert shown["conflict"].startswith(f"a second viggle-watch (pid {second.pid} on ")


def test_a_lock_held_says_which_process_holds_the_name(
    emu: RunningEmulator, make_config: MakeConfig, pg_url: str, services: Made
) -> None:
    started(config_for(make_config, emu, pg_url, "state-a"), services)
    with pytest.raises(LockedError) as refused:
        started(config_for(make_config, emu, pg_url, "state-b"), services)
    assert str(refused.value).startswith(
        f"another viggle-watch (pid {os.getpid()}) is using the store host name 'alpha' ("
    )
    assert str(refused.value).endswith(f") from {os.uname()[1]}")


def test_a_restart_after_a_crash_on_the_same_machine_starts_at_once(
    emu: RunningEmulator,
    make_config: MakeConfig,
    workspace: Workspace,
    pg_url: str,
    services: Made,
) -> None:
    """kill -9, then start again at once: its pid is gone from this machine, so the new
    service need not wait out the lease (60 s here) to take its own name."""
    store = {"url": pg_url, "host": "alpha", "lease": "60s"}
    make_config(emu.url, state_dir="state-a", store=store)
    crashed = start_service(workspace.root / "config.yaml")
    try:
        wait_for(
            lambda: (h := holder(pg_url)) is not None and h.pid == crashed.pid,
            timeout_s=60,
            what="the first service to hold the name",
        )
    finally:
        crashed.kill()
        crashed.wait()  # reaped, as systemd reaps it
    again = started(make_config(emu.url, state_dir="state-b", store=store), services)
    found = holder(pg_url)
    assert found is not None
    assert (found.instance, found.pid, found.conflict) == (
        again.keeper.me.instance,
        os.getpid(),
        "",
    )


def test_a_host_whose_name_was_taken_stops_and_exits_75(
    emu: RunningEmulator,
    make_config: MakeConfig,
    workspace: Workspace,
    pg_url: str,
    services: Made,
) -> None:
    """Host alpha stalls (SIGSTOP) past its lease while a blip drops its lock; another service
    takes the name; alpha wakes, finds its name held by another process and stops (exit 75),
    leaving the new holder's row and jobs alone."""
    config_for(make_config, emu, pg_url, "state-a")
    (workspace.root / "logs").mkdir()
    log = workspace.root / "logs" / "alpha.log"
    first = start_service(workspace.root / "config.yaml", log)
    try:
        wait_for(lambda: '"service_started"' in log.read_text(), 60, "the first to start")
        first.send_signal(signal.SIGSTOP)
        drop_name_lock(pg_url, "alpha")
        wait_for(
            lambda: (h := holder(pg_url)) is not None and time.time() - h.seen_at > LEASE_S + 1,
            timeout_s=60,
            what="the stalled host's heartbeat to be older than the lease",
        )
        taker = started(config_for(make_config, emu, pg_url, "state-b"), services)
        first.send_signal(signal.SIGCONT)
        code = first.wait(timeout=30)  # before issue 19: it ran on, under the same name
    finally:
        first.send_signal(signal.SIGCONT)
        stop(first, 30)
    found, said = holder(pg_url), log.read_text()
    assert found is not None
    assert (code, found.instance, found.pid) == (75, taker.keeper.me.instance, os.getpid())
    assert '"host_name_lost"' in said and "lost its store host name 'alpha'" in said
    assert f"pid {first.pid} on " in found.conflict and "lost this name" in found.conflict


def test_a_service_that_lost_its_name_holds_paid_work_and_releases_nothing(
    emu: RunningEmulator, make_config: MakeConfig, pg_url: str, services: Made
) -> None:
    service = started(config_for(make_config, emu, pg_url, "state-a"), services)
    me = service.keeper.me
    names = HostNames(service.db)
    taken = names.take(  # what another process does once this one looks silent
        instance="intruder",
        pid=1,
        machine="elsewhere",
        node="r9",
        now=time.time(),
        replacing=me.instance,
    )
    held_before = service.gatekeeper.holding()
    service.keep_leases(time.time())
    held = service.gatekeeper.holding()
    services.stopped(service)
    found = holder(pg_url)
    assert found is not None
    assert (taken, held_before, service.submitter.draining, found.instance, found.pid) == (
        True,
        None,
        True,
        "intruder",
        1,  # a clean stop of the loser did not mark the new holder stopped
    )
    assert held is not None and held.startswith(f"this service (pid {me.pid} on ")
