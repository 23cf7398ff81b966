"""The SQLite job store's file: its pragmas, a read-only open that creates nothing and migrates
nothing, a newer schema left alone, the data kept across reopening. The contract on both
backends: ``test_store_contract.py``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.store import enqueue, make_spec
from viggle_watch.errors import StoreError
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.sqlite import SCHEMA_VERSION, Database
from viggle_watch.store.states import State


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A freshly created job store file, closed after the test."""
    database = Database.open(tmp_path / "state" / "state.db")
    yield database
    database.close()


# --- the database --------------------------------------------------------------------------


def test_database_pragmas(sqlite_db: Database) -> None:
    """WAL journal, synchronous=FULL (2), foreign keys on and the current schema version."""
    with sqlite_db.read() as conn:
        pragmas = tuple(
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "user_version")
        )
    assert (pragmas, sqlite_db.user_version(), SCHEMA_VERSION) == (("wal", 2, 1, 8), 8, 8)


def test_open_readonly_missing_file_is_a_clear_store_error(tmp_path: Path) -> None:
    """Reading a store that was never created says so and creates nothing."""
    path = tmp_path / "state.db"
    with pytest.raises(StoreError) as excinfo:
        Database.open(path, readonly=True)
    assert (str(excinfo.value), path.exists()) == (
        f"no job store at {path} yet: has `viggle-watch run` been started?",
        False,
    )


def test_open_readonly_refuses_an_unmigrated_file(tmp_path: Path) -> None:
    """A readonly open of a file with another schema version is refused, not migrated."""
    path = tmp_path / "state.db"
    sqlite3.connect(path).close()
    with pytest.raises(StoreError) as excinfo:
        Database.open(path, readonly=True)
    expected = (
        f"job store {path} has schema 0; expected {SCHEMA_VERSION} "
        "(start `viggle-watch run` once to upgrade it)"
    )
    assert str(excinfo.value) == expected


def test_open_refuses_a_newer_schema(tmp_path: Path) -> None:
    """A store written by a newer version is not touched."""
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as excinfo:
        Database.open(path)
    newer = SCHEMA_VERSION + 1
    assert str(excinfo.value) == f"job store {path} is from a newer viggle-watch ({newer})"


def test_reopen_keeps_the_data(tmp_path: Path) -> None:
    """Jobs survive closing and reopening (also read-only) the store."""
    path = tmp_path / "state.db"
    first = Database.open(path)
    job_id = enqueue(JobStore(first))
    first.close()
    for readonly in (False, True):
        again = Database.open(path, readonly=readonly)
        job = JobStore(again).get(job_id)
        again.close()
        assert job is not None
        assert (job.id, job.state, job.spec) == (job_id, State.QUEUED, make_spec())
