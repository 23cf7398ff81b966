"""One service per state directory (viggle_watch.app.lock): a real flock, held by a real
process, released by the kernel when that process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.waits import wait_for
from viggle_watch.app.lock import Holder, LockedError, ServiceLock, holder_of

HOLD = """
import sys, time
from pathlib import Path
from viggle_watch.app.lock import ServiceLock
ServiceLock(Path(sys.argv[1])).acquire(host="other", now=1234.5)
print("held", flush=True)
time.sleep(600)
"""


def no_sleep(_s: float) -> None:
    return None


def test_a_second_lock_on_one_state_dir_is_refused_and_names_the_holder(tmp_path: Path) -> None:
    """Two locks on one folder (two open files, even in one process): the second is refused."""
    first = ServiceLock(tmp_path / "state")
    first.acquire(host="a", now=100.0)
    with pytest.raises(LockedError, match=r"another viggle-watch \(pid \d+\) is using") as caught:
        ServiceLock(tmp_path / "state").acquire(host="b", now=101.0, sleep=no_sleep)
    seen = holder_of(tmp_path / "state")
    first.release()
    assert (caught.value.holder, seen, holder_of(tmp_path / "state")) == (
        Holder(os.getpid(), 100.0, "a"),
        Holder(os.getpid(), 100.0, "a"),
        None,
    )


def test_nobody_holds_a_folder_never_locked(tmp_path: Path) -> None:
    """No lock file, or one left by a clean stop: nobody runs there."""
    lock = ServiceLock(tmp_path)
    before = holder_of(tmp_path)
    lock.acquire(host="a", now=1.0)
    lock.release()
    assert (before, holder_of(tmp_path), lock.path.exists()) == (None, None, True)


def test_the_kernel_frees_the_lock_of_a_killed_process(tmp_path: Path) -> None:
    """A holder killed with SIGKILL leaves its file behind but not its lock."""
    state = tmp_path / "state"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        running = holder_of(state)
        with pytest.raises(LockedError):
            ServiceLock(state).acquire(host="me", now=time.time(), sleep=no_sleep)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    wait_for(lambda: holder_of(state) is None, timeout_s=10, what="the lock to be freed")
    mine = ServiceLock(state)
    mine.acquire(host="me", now=2.0)
    after = holder_of(state)
    mine.release()
    assert (running, after) == (Holder(child.pid, 1234.5, "other"), Holder(os.getpid(), 2.0, "me"))


def test_on_a_shared_store_one_service_holds_each_host_name(pg_url: str) -> None:
    """A second service under the same store.host is refused; another name is not; the name
    is free again once its holder's connection closes."""
    from viggle_watch.store.postgres import PostgresDatabase

    first = PostgresDatabase.open(pg_url, host="host-a")
    same = PostgresDatabase.open(pg_url, host="host-a")
    other = PostgresDatabase.open(pg_url, host="host-b")
    try:
        claims = [first.claim_host(), same.claim_host(), other.claim_host(), first.claim_host()]
        first.close()
        after = same.claim_host()
    finally:
        for db in (first, same, other):
            db.close()
    assert (claims, after) == ([True, False, True, True], True)
