"""The only watchdog import: native and polling observers feeding the settle tracker."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from watchdog.events import (
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

from viggle_watch.watch.filters import is_ignored
from viggle_watch.watch.mounts import WatchRoot
from viggle_watch.watch.scanner import FILED_FOLDERS, in_scope

OnPath = Callable[[Path], None]

# Opened / closed-without-writing events are left out: our own reads (hashing, uploading)
# would otherwise keep restarting the settle clock of files we are already working on.
_WANTED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileClosedEvent,
    FileAttribEvent,
]


class Watching(Protocol):
    """What the service holds of a running observer."""

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


class _QuietStopRace(logging.Filter):
    """watchdog logs an error when an event races ``Observer.stop()``; it is harmless there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


class _Handler(FileSystemEventHandler):
    def __init__(self, root: WatchRoot, on_path: OnPath) -> None:
        self._root = root
        self._on_path = on_path

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        raw = getattr(event, "dest_path", "") or event.src_path
        path = Path(os.fsdecode(raw))
        if not in_scope(self._root.path, path, recursive=self._root.recursive):
            return
        # a symlink is passed on too: the intake refuses it with a reason (never follows it)
        self._on_path(path)


class _Observers:
    """Several watchdog observers behind one ``Watching``: stop and join them all."""

    def __init__(self, observers: list[BaseObserver]) -> None:
        self._observers = observers

    def stop(self) -> None:
        for observer in self._observers:
            observer.stop()

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for observer in self._observers:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            observer.join(left)


_QUIET = _QuietStopRace()


def _polling_listdir(roots: list[WatchRoot]) -> Callable[[str | None], Iterator[os.DirEntry[str]]]:
    """``os.scandir`` for the polling snapshots, minus litter and the roots' filed folders.

    Fewer entries to stat on every poll (``processed/`` only grows), and a ``.part`` file is
    never snapshotted, so renaming it into place shows up as the final name being created.
    """
    tops = {os.fspath(r.path) for r in roots}

    def listdir(folder: str | None) -> Iterator[os.DirEntry[str]]:
        folder = folder or "."
        with os.scandir(folder) as entries:
            kept = [
                e
                for e in entries
                if not is_ignored(e.name) and not (folder in tops and e.name in FILED_FOLDERS)
            ]
        return iter(kept)

    return listdir


def _observers_for(roots: list[WatchRoot], on_path: OnPath) -> list[BaseObserver]:
    """One native observer for the native roots, one polling observer per poll interval."""
    made: list[BaseObserver] = []
    native = [r for r in roots if r.kind == "native"]
    if native:
        observer = Observer()
        for root in native:
            handler = _Handler(root, on_path)
            path, recursive = os.fspath(root.path), root.recursive
            observer.schedule(handler, path, recursive=recursive, event_filter=_WANTED_EVENTS)
        made.append(observer)
    for interval in sorted({r.poll_interval_s for r in roots if r.kind == "polling"}):
        group = [r for r in roots if r.kind == "polling" and r.poll_interval_s == interval]
        # watchdog's PollingObserver with lstat: a recursive snapshot must not walk into a
        # symlinked folder (out of the root, or a loop), and a custom listdir skips litter.
        polling = PollingObserverVFS(os.lstat, _polling_listdir(group), polling_interval=interval)
        for root in group:
            polling.schedule(
                _Handler(root, on_path), os.fspath(root.path), recursive=root.recursive
            )
        made.append(polling)
    return made


def start_observers(roots: list[WatchRoot], on_path: OnPath) -> Watching:
    """Watch every root as its ``kind`` says; ``on_path`` gets each in-scope file event.

    Calls come from watchdog's threads. If a root cannot be watched, the observers already
    started are stopped and the error is raised.
    """
    logging.getLogger("watchdog.observers.inotify").addFilter(_QUIET)
    observers = _observers_for(roots, on_path)
    started: list[BaseObserver] = []
    try:
        for observer in observers:
            observer.daemon = True
            observer.start()
            started.append(observer)
    except BaseException:
        for observer in observers:  # also the one that failed: its first emitters may run
            observer.stop()
        _Observers(started).join()
        raise
    return _Observers(started)


def start_observer(roots: list[Path], on_path: OnPath) -> Watching:
    """Watch each root natively (not recursively) and call ``on_path`` for every file event."""
    return start_observers([WatchRoot(root, "native") for root in roots], on_path)
