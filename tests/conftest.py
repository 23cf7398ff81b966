"""Shared test helpers: the emulator on loopback, workspaces, config factories, bounded waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from viggle_watch.apikey import ApiKey
from viggle_watch.app.service import Service, build_service
from viggle_watch.clock import FakeClock
from viggle_watch.config import Config, load_config
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.backend import Backend
from viggle_watch.store.states import State

KEY = "sk-test-0123456789abcdef"


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout_s`` (never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what or predicate}")


def drop(path: Path, data: bytes, *, chunks: int = 1, pause_s: float = 0.0) -> float:
    """Write ``data`` to ``path`` in ``chunks`` parts, pausing between them (a slow copy).

    Returns ``time.time()`` right after the last byte was written.
    """
    size = max(1, -(-len(data) // chunks))
    with path.open("wb") as f:
        for i in range(0, len(data), size):
            if i:
                time.sleep(pause_s)
            f.write(data[i : i + size])
            f.flush()
    return time.time()


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def watch(self) -> Path:
        return self.root / "in"

    @property
    def output(self) -> Path:
        return self.root / "out"

    @property
    def scene(self) -> Path:
        return self.root / "assets" / "dance.mp4"

    def character(self, name: str = "alice.png", seed: int = 1) -> bytes:
        """Bytes of a real PNG character (written outside the watch folder first)."""
        staging = self.root / f"staging-{seed}.png"
        make_character_png(staging, seed=seed)
        data = staging.read_bytes()
        staging.unlink()
        return data


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """in/, out/ and a real 1-second driving video in assets/."""
    ws = Workspace(tmp_path / "ws")
    for folder in (ws.watch, ws.output, ws.scene.parent):
        folder.mkdir(parents=True)
    make_driving_mp4(ws.scene, seconds=1.0)
    return ws


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """The Viggle emulator on 127.0.0.1 with a short render latency."""
    with serve(EmulatorConfig(latency_s=1.0)) as running:
        yield running


MakeConfig = Callable[..., Config]


@pytest.fixture
def make_config(workspace: Workspace) -> MakeConfig:
    """Factory: a config file for ``workspace`` with short intervals, written and loaded."""

    def factory(base_url: str, **overrides: Any) -> Config:
        doc: dict[str, Any] = {
            "api": {"base_url": base_url},
            "state_dir": "state",
            "poll_interval": "200ms",
            "settle": "500ms",
            "rules": [
                {
                    "name": "dance",
                    "kind": "characters",
                    "watch": "in",
                    "output": "out",
                    "model": "V4_Preview",
                    "scenes": [{"video": "assets/dance.mp4"}],
                }
            ],
        }
        doc.update(overrides)
        path = workspace.root / "config.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        return load_config(path)

    return factory


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves threads running after it ends."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    leaked: list[threading.Thread] = []
    while time.monotonic() < deadline:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        time.sleep(0.05)
    pytest.fail(f"test leaked threads: {[t.name for t in leaked]}")


class Stepper:
    """The service's ticks, called by hand at fake times (no scheduler, no observer)."""

    def __init__(self, service: Service, clock: FakeClock) -> None:
        self.service, self.clock = service, clock

    def ingest(self) -> int:
        """Scan, then let everything settle: the files become queued jobs."""
        s, now = self.service, self.clock.time()
        s.intake.rescan(now)
        s.intake.tick(now)
        self.clock.advance(s.config.settle + 1)
        return s.intake.tick(self.clock.time())

    def step(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.service.render_once(self.clock.time())

    def state(self, job_id: int = 1) -> State:
        job = self.service.store.get(job_id)
        assert job is not None
        return job.state

    def run_until(self, predicate: Callable[[], bool], seconds: float = 0.5) -> None:
        """Step until ``predicate()``; the emulator runs on real time, so wait a little too."""

        def stepped() -> bool:
            self.step(seconds)
            return predicate()

        wait_for(stepped, timeout_s=60)


@pytest.fixture
def stepper_for(make_config: MakeConfig, workspace: Workspace) -> Iterator[Any]:
    made: list[Service] = []

    def factory(base_url: str, **overrides: Any) -> Stepper:
        clock = FakeClock(start=time.time())  # near real time: the CLI uses the wall clock
        service = build_service(make_config(base_url, **overrides), ApiKey(KEY), clock=clock)
        made.append(service)
        return Stepper(service, clock)

    yield factory
    for service in made:
        service.db.close()


# PostgreSQL (issue 8): a real server for the tests. $VIGGLE_TEST_PG_URL names one (.ci/run
# starts one and sets it); else the session starts a throwaway cluster (tests/pgserver.py);
# else the PostgreSQL tests skip, saying why. VIGGLE_TEST_PG=off skips them outright.
# (Imports are local: this block is appended to the shared conftest, whose header stays as it is.)
PG_URL_ENV = "VIGGLE_TEST_PG_URL"
PG_SKIP = "PostgreSQL tests skipped"
PG_HINT = f"set {PG_URL_ENV} to a server's URL, or install postgresql (initdb)"
PSYCOPG_HINT = "pip install 'psycopg[binary]>=3.1,<4' (the project's test or postgres extra)"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session (its ``postgres`` database).

    ``$VIGGLE_TEST_PG_URL`` if set; else a throwaway cluster started now and stopped at the end
    of the session; else every test that needs it skips, saying why.
    """
    import os
    import subprocess

    if os.environ.get("VIGGLE_TEST_PG", "").lower() in ("off", "0", "no", "false"):
        pytest.skip(f"{PG_SKIP}: VIGGLE_TEST_PG=off")
    try:
        import psycopg  # noqa: F401  (only: is it there?)
    except ImportError as e:
        pytest.skip(f"{PG_SKIP}: psycopg is not importable ({e}); {PSYCOPG_HINT}")
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield url
        return
    import pgserver  # tests/, which holds this conftest, is on sys.path

    cluster = pgserver.temp_cluster()
    try:
        url = cluster.start()
    except (pgserver.PgUnavailableError, OSError, subprocess.SubprocessError) as e:
        cluster.stop()
        pytest.skip(f"{PG_SKIP}: cannot start a server: {e}; {PG_HINT}")
    try:
        yield url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a fresh, empty database of this test's own (same server), dropped after it."""
    import pgserver

    with pgserver.fresh_database(pg_server_url) as url:
        yield url


# --- the store's two backends (one contract suite runs against both) ------------------------

STORE_TABLES = (
    "job_events, job_sources, spend, assets, seen_files, hosts, input_claims, rate_buckets, jobs"
)


@pytest.fixture(scope="module")
def pg_store_url(pg_server_url: str) -> Iterator[str]:
    """A database of this test module's own, migrated once; tests empty its tables."""
    import pgserver

    from viggle_watch.store.postgres import PostgresDatabase

    with pgserver.fresh_database(pg_server_url, prefix="viggle_store") as url:
        PostgresDatabase.open(url, host="migrator").close()
        yield url


OpenAs = Callable[[str], Backend]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_as(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenAs]:
    """Open the store under test as host ``name`` (SQLite file, or an emptied PostgreSQL db)."""
    from viggle_watch.store.postgres import PostgresDatabase
    from viggle_watch.store.sqlite import Database

    opened: list[Backend] = []
    url = request.getfixturevalue("pg_store_url") if request.param == "postgresql" else ""
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {STORE_TABLES} RESTART IDENTITY CASCADE")

    def open_(name: str) -> Backend:
        db: Backend
        if url:
            db = PostgresDatabase.open(url, host=name)
        else:
            db = Database.open(tmp_path / "state" / "state.db", host=name)
        opened.append(db)
        return db

    yield open_
    for db in opened:
        db.close()


@pytest.fixture
def backend(open_as: OpenAs) -> Backend:
    """The store under test, opened as host ``host-a``."""
    return open_as("host-a")
