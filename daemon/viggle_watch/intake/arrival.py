"""Pure: a file that looks cut off may still be arriving (a slow SMB copy, a paused rsync). It
waits ``incomplete_grace`` before it is filed as failed; if it changes meanwhile it is judged
again from the start, and once its grace is over it is judged one last time."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from viggle_watch.intake.checks import Problem

INCOMPLETE_CODES: Final = frozenset({"unreadable"})  # damaged, or not all there yet
Stamp = tuple[int, int]  # size, mtime_ns


class Arrivals:
    """The files that looked incomplete, since when, and as what size and mtime."""

    def __init__(self, grace_s: float) -> None:
        self._grace_s = grace_s
        self._first: dict[Path, tuple[float, Stamp]] = {}
        self._asked: set[Path] = set()  # judged again already after their grace

    def __contains__(self, path: Path) -> bool:
        return path in self._first

    def holds(self, path: Path, problem: Problem, stamp: Stamp, now: float) -> bool:
        """True: wait, do not file ``path`` as failed yet (it may still be arriving)."""
        if problem.code not in INCOMPLETE_CODES or self._grace_s <= 0:
            return False
        first = self._first.get(path)
        if first is None or first[1] != stamp:  # new, or it changed: the grace starts again
            self._first[path] = (now, stamp)
            self._asked.discard(path)
            return True
        if now - first[0] < self._grace_s:
            return True
        self.judged(path)
        return False

    def judged(self, path: Path) -> None:
        """``path`` was taken or filed: forget it."""
        self._first.pop(path, None)
        self._asked.discard(path)

    def waiting(self) -> bool:
        """Files wait for their grace to end: the settle tick must run until it does."""
        return any(p not in self._asked for p in self._first)

    def due(self, now: float) -> list[Path]:
        """Files whose grace is over and that were not judged again yet (each once)."""
        due = sorted(
            p
            for p, (t, _) in self._first.items()
            if now - t >= self._grace_s and p not in self._asked
        )
        self._asked.update(due)
        return due
