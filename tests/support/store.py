"""The job store for the tests: ``store``, a real SQLite one in ``tmp_path``, and the jobs to
put in it (``make_spec``, ``enqueue``); and its two backends, SQLite and PostgreSQL, for the one
contract suite that runs against both (``backend``, ``open_as``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import pgserver
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import InputRef, JobSpec, JobStore
from viggle_watch.store.sqlite import Database

T0 = 1_700_000_000.0


def make_spec(character: str = "hero.png", rule: str = "dance") -> JobSpec:
    """A render request as the rules engine would make it: ``/in/{character}`` dancing."""
    return JobSpec(
        rule=rule,
        character=InputRef("character", f"/in/{character}", "a" * 64, 1234),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 56789),
        model="V4_Preview",
        output_name=f"{Path(character).stem}__dance",
    )


def enqueue(store: JobStore, key: str = "k1", source: str = "/in/hero.png") -> int:
    """Enqueue a job that must be new; return its id."""
    job_id = store.enqueue(make_spec(), dedup_key=key, source_path=source, at=T0)
    assert job_id is not None
    return job_id


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    """A real SQLite job store in ``tmp_path``, closed after the test."""
    db = Database.open(tmp_path / "state.db")
    yield JobStore(db)
    db.close()


STORE_TABLES = (
    "job_events, job_sources, spend, assets, seen_files, hosts, input_claims, rate_buckets, jobs"
)


@pytest.fixture(scope="module")
def pg_store_url(pg_server_url: str) -> Iterator[str]:
    """A database of this test module's own, migrated once; tests empty its tables."""
    from viggle_watch.store.postgres import PostgresDatabase

    with pgserver.fresh_database(pg_server_url, prefix="viggle_store") as url:
        PostgresDatabase.open(url, host="migrator").close()
        yield url


OpenAs = Callable[[str], Backend]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_as(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenAs]:
    """Open the store under test as host ``name`` (SQLite file, or an emptied PostgreSQL db)."""
    from viggle_watch.store.postgres import PostgresDatabase

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
