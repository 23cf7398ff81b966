"""What the drills with more than one host share (``bench/drills/twohost.py``, its fast variant
in ``tests/e2e/test_two_host_drill.py``, and ``bench/scaleout.py``): a PostgreSQL server, the
emulator as a process of its own, one config per host on the shared store, the hosts started
(on a :func:`stage` of inputs, all dropped at once: :func:`hosts_dropped`), and a cheap look at
who holds what in the shared queue.

A fresh database on the server is ``tests.support.pgserver.fresh_database``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, Protocol, cast

import requests

from tests.support import pgserver
from tests.support.cli import stop
from tests.support.drills.service import start_service
from tests.support.drills.twohost_result import SETTLED
from tests.support.drills.workspace import (
    KEY,
    characters_rule,
    make_images,
    make_scenes,
    write_config,
)
from tests.support.waits import wait_until
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.errors import StoreError
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.postgres import PostgresDatabase
from viggle_watch.store.states import State

PG_URL_ENV: Final = "VIGGLE_TEST_PG_URL"
PGSERVER: Final = Path(pgserver.__file__)
EMULATOR_START_S: Final = 30.0
SERVICE_START_S: Final = 60.0

# ----------------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def pg_server(url: str | None = None) -> Iterator[tuple[str, str]]:
    """A server's URL and where it came from: ``url``, else ``$VIGGLE_TEST_PG_URL``, else a
    throwaway cluster started now with ``tests/support/pgserver.py`` (stopped and removed on
    exit); :class:`~tests.support.pgserver.PgUnavailableError` when none can be started."""
    if url:
        yield url, "given"
        return
    if os.environ.get(PG_URL_ENV):
        yield os.environ[PG_URL_ENV], f"${PG_URL_ENV}"
        return
    # not under a private temp dir: as root the cluster runs as `postgres`, which must enter it
    folder = Path(tempfile.gettempdir()) / f"viggle-drill-pg-{uuid.uuid4().hex[:10]}"
    done = subprocess.run(
        [sys.executable, str(PGSERVER), "start", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise pgserver.PgUnavailableError(done.stderr.strip() or f"pgserver exit {done.returncode}")
    try:
        yield done.stdout.strip(), f"a throwaway cluster in {folder} (tests/support/pgserver.py)"
    finally:
        subprocess.run(
            [sys.executable, str(PGSERVER), "stop", str(folder)], capture_output=True, check=False
        )


class SharedView:
    """The shared store as the drill sees it: read-only, as a host of its own name (it never
    claims anything). Opened once the services have created the schema."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db
        self.store = JobStore(db)
        self.hosts = HostStore(db)

    def held(self) -> Counter[tuple[str | None, str]]:
        """Jobs per (owner, state): who holds what right now, in one cheap query."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT owner, state, COUNT(*) FROM jobs GROUP BY owner, state")
            return Counter({(r[0], str(r[1])): int(r[2]) for r in rows.fetchall()})

    def states(self) -> Counter[str]:
        held = self.held()
        out: Counter[str] = Counter()
        for (_, state), n in held.items():
            out[state] += n
        return out

    def spent(self) -> float:
        """Every credit committed in the spend table (any day: a drill may cross midnight)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT COALESCE(SUM(credits), 0) FROM spend").fetchone()
        return float(row[0])


@contextlib.contextmanager
def shared_view(url: str, timeout_s: float = 60.0) -> Iterator[SharedView]:
    """:class:`SharedView` of the store at ``url``, once a service has migrated it."""
    opened: list[PostgresDatabase] = []

    def try_open() -> bool:
        try:
            opened.append(PostgresDatabase.open(url, host="drill-observer", readonly=True))
        except StoreError:
            return False
        return True

    if not wait_until(try_open, timeout_s, 0.2):
        raise StoreError(f"no viggle-watch schema at {url} after {timeout_s:g}s")
    try:
        yield SharedView(opened[0])
    finally:
        opened[0].close()


# ----------------------------------------------------------------------------- the emulator


class EmulatorKnobs(Protocol):
    """What a drill's settings say of its emulator."""

    @property
    def latency_s(self) -> float: ...
    @property
    def jitter_s(self) -> float: ...
    @property
    def request_delay_s(self) -> float: ...
    @property
    def seed(self) -> int: ...


def stage_emulator(where: Stage, knobs: EmulatorKnobs) -> contextlib.AbstractContextManager[str]:
    """:func:`emulator_process` for a drill: its knobs from the settings, its log in the
    stage's logs (``emulator.log``)."""
    return emulator_process(
        where.logs / "emulator.log",
        latency_s=knobs.latency_s,
        jitter_s=knobs.jitter_s,
        request_delay_s=knobs.request_delay_s,
        seed=knobs.seed,
    )


@contextlib.contextmanager
def emulator_process(
    log: Path,
    *,
    latency_s: float,
    jitter_s: float = 0.0,
    request_delay_s: float = 0.0,
    seed: int = 0,
) -> Iterator[str]:
    """``viggle-watch sim`` as a process of its own (its own GIL: it serves every host);
    yields its URL and stops it (SIGTERM) on exit."""
    args = [
        *("--port", "0", "--latency", str(latency_s), "--latency-jitter", str(jitter_s)),
        *("--request-delay", str(request_delay_s), "--seed", str(seed), "--key", KEY),
    ]
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "viggle_watch", "sim", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    try:
        yield _listening_url(proc, log)
    finally:
        stop(proc, 10)
        if proc.stdout is not None:
            proc.stdout.close()


def _listening_url(proc: subprocess.Popen[str], log: Path) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + EMULATOR_START_S
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if "listening on " in line:
                return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError(f"the emulator did not start (exit {proc.poll()}); see {log}")


def no_delays(url: str) -> None:
    """Take the request delay away (the checks afterwards re-fetch every output)."""
    requests.post(
        f"{url}/_sim/faults", json={"request_delay_s": 0.0}, timeout=30
    ).raise_for_status()


def sim_stats(url: str) -> EmulatorStats:
    """``GET /_sim/stats`` of an emulator process."""
    return cast(EmulatorStats, requests.get(f"{url}/_sim/stats", timeout=30).json())


# ----------------------------------------------------------------------------- the hosts


def host_config(
    root: Path,
    host: str,
    *,
    api_url: str,
    db_url: str,
    rules: list[dict[str, Any]],
    lease_s: float,
    **settings: object,
) -> Path:
    """``root/host/config.yaml``: this host's own state dir, the shared store under its name;
    the watch folders come from ``rules`` (the same for every host)."""
    # made here: on a PostgreSQL store nothing else creates the state dir, and `run` needs it
    # for its pid file (without it, it exits with a traceback right after starting)
    (root / host / "state").mkdir(parents=True, exist_ok=True)
    store = {"url": db_url, "host": host, "lease": f"{lease_s:g}s"}
    return write_config(root / host, api_url, rules, store=store, **settings)


def start_hosts(
    procs: dict[str, subprocess.Popen[bytes]],
    root: Path,
    hosts: Iterable[str],
    *,
    api_url: str,
    db_url: str,
    rules: list[dict[str, Any]],
    lease_s: float,
    **settings: object,
) -> None:
    """One ``viggle-watch run`` per host in ``hosts``, each with its :func:`host_config`, its
    output in ``root/logs/HOST.log``; added to ``procs`` as it starts, so that the caller stops
    every one started even if a later one fails."""
    for host in hosts:
        config = host_config(
            root, host, api_url=api_url, db_url=db_url, rules=rules, lease_s=lease_s, **settings
        )
        procs[host] = start_service(config, root / "logs" / f"{host}.log")


def stop_hosts(procs: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Every host still running, stopped cleanly (a frozen one woken first to hear it)."""
    for proc in procs.values():
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
            proc.wait(timeout=60)


def await_started(logs: Path, procs: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Until each host's service logged ``service_started`` in ``logs/HOST.log`` (its observers
    watch the folder); an error if one exits first or they take over a minute."""

    def started(host: str) -> bool:
        if procs[host].poll() is not None:
            raise RuntimeError(f"{host} exited ({procs[host].returncode}); see its log")
        log = logs / f"{host}.log"
        return log.exists() and '"service_started"' in log.read_text(encoding="utf-8")

    if not wait_until(lambda: all(started(h) for h in procs), SERVICE_START_S, 0.1):
        raise RuntimeError(f"the services did not start within {SERVICE_START_S:g} s; see {logs}")


# ----------------------------------------------------------------------------- a drill's run


@dataclasses.dataclass(frozen=True)
class Stage:
    """A drill's folders under ``root``: ``logs``, the images ``staged`` to drop into ``watch``
    and the one ``characters`` ``rule`` (watch to ``out``, against one scene)."""

    root: Path
    logs: Path
    staged: list[Path]
    watch: Path
    out: Path
    rule: dict[str, Any]


def stage(root: Path, rule_name: str, inputs: int, seed: int) -> Stage:
    """Make ``inputs`` images and one scene under ``root`` (with ``seed``), and the rule."""
    logs = root / "logs"
    logs.mkdir(parents=True)
    scenes = make_scenes(root / "assets", 1, seed=seed)
    staged = make_images(root / "staging", inputs, seed=seed)
    watch, out = root / "in", root / "out"
    watch.mkdir()
    rule = characters_rule(rule_name, watch, out, scenes)
    return Stage(root, logs, staged, watch, out, rule)


@contextlib.contextmanager
def hosts_dropped(
    where: Stage,
    procs: dict[str, subprocess.Popen[bytes]],
    hosts: Iterable[str],
    *,
    api_url: str,
    db_url: str,
    lease_s: float,
    **settings: object,
) -> Iterator[tuple[SharedView, float]]:
    """:func:`start_hosts` on the stage's rule (settle 300 ms) and, once each has started, every
    staged image dropped at once; yields a :class:`SharedView` and the drop's monotonic time."""
    start_hosts(
        procs,
        where.root,
        hosts,
        api_url=api_url,
        db_url=db_url,
        rules=[where.rule],
        lease_s=lease_s,
        settle="300ms",
        **settings,
    )
    with shared_view(db_url) as view:
        await_started(where.logs, procs)
        for image in where.staged:  # the same filesystem: each appears whole
            image.rename(where.watch / image.name)
        yield view, time.monotonic()


def until(done: Callable[[], bool], deadline: float) -> bool:
    """Whether ``done()`` came true before the monotonic ``deadline`` (asked every 0.1 s)."""
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.1)
    return bool(done())


def settled(view: SharedView, expected: int) -> bool:
    """Every one of the ``expected`` jobs is there, and none will move on by itself."""
    states = view.states()
    return sum(states.values()) >= expected and all(State(st) in SETTLED for st in states)
