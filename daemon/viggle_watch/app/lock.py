"""One service per state directory: an exclusive ``flock`` on ``STATE_DIR/viggle-watch.lock``,
held for the life of the process and let go by the kernel when the process dies, however it
dies (never a guess from a pid file). The holder writes its pid, host and start time into the
file, so a second ``run`` can say who is there and ``status`` can say since when.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from viggle_watch.errors import NotReadyError, ViggleWatchError
from viggle_watch.statedir import FILE_MODE, make_state_dir

LOCK_FILE: Final = "viggle-watch.lock"
TRIES: Final = 5  # `status` holds a shared lock for a moment while it looks: try again
PAUSE_S: Final = 0.05


@dataclass(frozen=True, slots=True)
class Holder:
    """The running service that holds a state directory."""

    pid: int
    since: float  # epoch seconds it started
    host: str = ""


class LockedError(NotReadyError):
    """Another service holds the state directory (or, on a shared store, the host name)."""

    def __init__(self, what: str, holder: Holder | None) -> None:
        who = f" (pid {holder.pid})" if holder is not None and holder.pid else ""
        super().__init__(f"another viggle-watch{who} is using {what}")
        self.holder = holder


def _read(fd: int) -> Holder | None:
    try:
        doc = json.loads(os.pread(fd, 4096, 0) or b"null")
        return Holder(int(doc["pid"]), float(doc["since"]), str(doc.get("host", "")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


class ServiceLock:
    """The state directory's lock; ``acquire`` before anything is touched, ``release`` last."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(
        self, *, host: str, now: float, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        """Take the lock, or raise ``LockedError`` naming the holder; writes nothing else."""
        try:
            make_state_dir(self.state_dir)
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
            fd = os.open(self.path, flags, FILE_MODE)
        except OSError as exc:
            raise ViggleWatchError(f"state_dir {self.state_dir}: {exc.strerror}") from None
        for attempt in range(TRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt < TRIES - 1:
                    sleep(PAUSE_S)
        else:
            holder = _read(fd)
            os.close(fd)
            raise LockedError(str(self.state_dir), holder)
        record = json.dumps({"pid": os.getpid(), "since": now, "host": host}).encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, record, 0)
        except OSError as exc:  # a full disk: the kernel's lock holds, the record cannot
            os.close(fd)
            raise NotReadyError(
                f"state_dir {self.state_dir}: cannot write {self.path.name}: {exc.strerror}"
            ) from None
        self._fd = fd

    def release(self) -> None:
        """A clean stop: the file says nobody runs, then the lock goes."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the last descriptor lets go of the flock
        self._fd = None


def holder_of(state_dir: Path) -> Holder | None:
    """Who runs on ``state_dir`` now (None: nobody). Looks without getting in the way: a
    shared lock for a moment, which a starting service waits out."""
    try:
        fd = os.open(state_dir / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd) or Holder(0, 0.0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
