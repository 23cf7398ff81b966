"""A state directory the service makes itself is never world-readable, whatever the umask: the
folder at most 0750, the job store, its WAL and the lock at most 0640 (issue 14 §21: the store
holds signed result URLs)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from viggle_watch.app.lock import ServiceLock
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.sqlite import Database


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0)  # the worst case: nothing taken away
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_under_umask_0_nothing_the_service_makes_is_world_readable(
    tmp_path: Path, open_umask: None
) -> None:
    state = tmp_path / "var" / "state"
    lock = ServiceLock(state)
    lock.acquire(host="h", now=1.0)
    try:
        db = Database.open(state / "state.db")
        assert JobStore(db).counts() is not None
        made = sorted(p.name for p in state.iterdir())
        modes = {p.name: mode(p) for p in state.iterdir()}
        db.close()
    finally:
        lock.release()
    assert mode(state) == 0o750
    assert {"state.db", "state.db-wal"} <= set(made)
    assert all(m & 0o007 == 0 and m <= 0o640 for m in modes.values()), modes


def test_a_state_directory_that_exists_is_left_as_it_is(tmp_path: Path, open_umask: None) -> None:
    """The operator's own choice (say 0770 for a shared group) is not changed."""
    state = tmp_path / "state"
    state.mkdir(mode=0o770)
    Database.open(state / "state.db").close()
    assert mode(state) == 0o770
