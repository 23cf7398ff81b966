"""The only watchdog import: a native observer per watch root feeding the settle tracker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from daemon.watch.filters import is_ignored

OnPath = Callable[[Path], None]


class Watching(Protocol):
    """What the service holds of a running observer."""

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


class _QuietStopRace(logging.Filter):
    """watchdog logs an error when an event races ``Observer.stop()``; it is harmless there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


class _Handler(FileSystemEventHandler):
    def __init__(self, root: Path, on_path: OnPath) -> None:
        self._root = root
        self._on_path = on_path

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        raw = getattr(event, "dest_path", "") or event.src_path
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        if path.parent == self._root and not is_ignored(path.name):
            self._on_path(path)


_QUIET = _QuietStopRace()


def start_observer(roots: list[Path], on_path: OnPath) -> Watching:
    """Watch each root (not recursively) and call ``on_path`` for every file event in it."""
    logging.getLogger("watchdog.observers.inotify").addFilter(_QUIET)
    observer = Observer()
    for root in roots:
        observer.schedule(_Handler(root, on_path), str(root), recursive=False)
    observer.daemon = True
    observer.start()
    return observer
