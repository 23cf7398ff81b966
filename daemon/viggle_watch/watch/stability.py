"""When is a file done being written? No event for ``settle_s`` and two equal stat samples."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from viggle_watch.watch.scanner import folder_signature

Stat = Callable[[Path], os.stat_result]
READY_MARKER: Final = "READY"


@dataclass(frozen=True, slots=True)
class StableFile:
    path: Path
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Pending:
    last_event: float
    signature: tuple[int, int] | None = None
    changed_at: float = 0.0


def _packed(signature: tuple[int, int]) -> int:
    """(size, mtime_ns) as one int: one object instead of three.

    Distinct signatures stay distinct for any mtime_ns (even before 1970), as 0 <= size < 2**64.
    """
    size, mtime_ns = signature
    return (mtime_ns << 64) + size


class SettleTracker:
    """Thread-safe: observers ``touch`` paths; the settle tick asks which are ``stable(now)``.

    What was handed on is remembered for as long as the file stays (a rescan must not hand it
    on again), so that record is compact: path text → packed signature, about 170 bytes a
    file where ``Path`` keys and tuple values took over 500.
    """

    def __init__(self, settle_s: float, stat: Stat = os.stat) -> None:
        self._settle_s = settle_s
        self._stat = stat
        self._lock = threading.Lock()
        self._pending: dict[Path, _Pending] = {}  # only files settling now: short-lived
        self._emitted: dict[str, int] = {}  # str(path) → _packed((size, mtime_ns))
        self._work = threading.Event()  # set by touch(): something is settling

    def touch(self, path: Path, now: float) -> None:
        """A file event (or a scan) saw ``path`` at ``now``."""
        with self._lock:
            pending = self._pending.get(path)
            if pending is None:
                self._pending[path] = _Pending(last_event=now, changed_at=now)
            else:
                pending.last_event = now
        self._work.set()

    def wait_for_work(self, timeout_s: float) -> bool:
        """Block until a file is settling (True) or ``timeout_s`` passed (False); returns at
        once while anything is pending. An idle service sleeps here instead of ticking."""
        with self._lock:
            if self._pending:
                return True
            self._work.clear()
        return self._work.wait(timeout_s)

    def wake(self) -> None:
        """Release a ``wait_for_work`` (at stop)."""
        self._work.set()

    def touch_scanned(self, path: Path, signature: tuple[int, int], now: float) -> None:
        """A scan saw ``path`` with this (size, mtime): unchanged since handed on → nothing."""
        with self._lock:
            if path not in self._pending and self._emitted.get(str(path)) == _packed(signature):
                return
        self.touch(path, now)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def settling(self) -> list[Path]:
        """The files settling now (the dashboard counts them per watch folder)."""
        with self._lock:
            return list(self._pending)

    def stable(self, now: float) -> list[StableFile]:
        """Files quiet for ``settle_s`` whose size and mtime held across two samples."""
        with self._lock:
            items = list(self._pending.items())
        ready: list[StableFile] = []
        for path, pending in items:
            result = self._check(path, pending, now)
            if result is not None:
                ready.append(result)
        if items:
            with self._lock:
                if not self._pending:  # a dict keeps its table: drop the one a bulk drop grew
                    self._pending = {}
        return ready

    def _check(self, path: Path, pending: _Pending, now: float) -> StableFile | None:
        try:
            st = self._stat(path)
        except OSError:
            with self._lock:  # vanished mid-settle: forget it, a later event brings it back
                self._pending.pop(path, None)
            return None
        signature = (st.st_size, st.st_mtime_ns)
        if stat.S_ISDIR(st.st_mode):  # a job folder: settled when nothing inside changes
            signature = folder_signature(path)
            if (path / READY_MARKER).exists():
                pending.changed_at = pending.last_event = -1e18  # complete by declaration
                pending.signature = signature
        if signature != pending.signature:
            # the first look dates from the event that brought the file; a later change
            # happened at some point between two looks, so it counts from now
            first = pending.signature is None
            pending.signature = signature
            pending.changed_at = pending.last_event if first else now
            return None
        quiet_since = max(pending.last_event, pending.changed_at)
        if now - quiet_since < self._settle_s:
            return None
        packed, key = _packed(signature), str(path)
        with self._lock:
            self._pending.pop(path, None)
            if self._emitted.get(key) == packed:
                return None  # seen again by a rescan, unchanged: already handed on
            self._emitted[key] = packed
        return StableFile(path, signature[0], signature[1])

    def forget(self, path: Path) -> None:
        """The file was moved away; a new file at the same path is new work."""
        with self._lock:
            self._emitted.pop(str(path), None)
            self._pending.pop(path, None)
