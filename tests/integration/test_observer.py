"""Real watchdog observers on tmp_path: native and polling roots, recursion, clean stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.waits import wait_for
from viggle_watch.watch.mounts import WatchRoot
from viggle_watch.watch.observer import Watching, start_observer, start_observers
from viggle_watch.watch.scanner import in_scope

FAST_POLL_S = 0.1


class Seen:
    """Collects the paths an observer hands on (called from watchdog's threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: list[Path] = []

    def __call__(self, path: Path) -> None:
        with self._lock:
            self._paths.append(path)

    def paths(self) -> set[Path]:
        with self._lock:
            return set(self._paths)

    def wait(self, path: Path) -> None:
        """Block until ``path`` was handed on (bounded)."""
        wait_for(lambda: path in self.paths(), timeout_s=10, what=f"an event for {path}")

    def written(self, path: Path) -> Path:
        """Write a small file at ``path`` and block until it was handed on; ``path``."""
        path.write_bytes(b"png")
        self.wait(path)
        return path


@pytest.fixture
def seen() -> Seen:
    """A fresh collector."""
    return Seen()


@pytest.fixture
def watching() -> Iterator[list[Watching]]:
    """Observers a test starts are stopped and joined even when it fails."""
    started: list[Watching] = []
    yield started
    for observer in started:
        observer.stop()
        observer.join(timeout=5)


def root(path: Path, kind: str, *, recursive: bool = False) -> WatchRoot:
    """A WatchRoot polling fast enough for tests."""
    assert kind in ("native", "polling")
    return WatchRoot(path, "native" if kind == "native" else "polling", recursive, FAST_POLL_S)


def test_native_root_sees_a_file_created(
    tmp_path: Path, seen: Seen, watching: list[Watching]
) -> None:
    """A file written into a native root is handed on."""
    watching.append(start_observers([root(tmp_path, "native")], seen))
    seen.written(tmp_path / "hero.png")


def test_start_observer_still_watches_natively(
    tmp_path: Path, seen: Seen, watching: list[Watching]
) -> None:
    """The old entry point (list of paths) keeps working: direct children only."""
    (tmp_path / "sub").mkdir()
    watching.append(start_observer([tmp_path], seen))
    (tmp_path / "sub" / "deep.png").write_bytes(b"png")
    seen.written(tmp_path / "hero.png")
    assert tmp_path / "sub" / "deep.png" not in seen.paths()


def test_polling_root_sees_created_and_renamed_files(
    tmp_path: Path, seen: Seen, watching: list[Watching]
) -> None:
    """Polling sees a new file and a ``.part`` renamed into place (as its final name only)."""
    watching.append(start_observers([root(tmp_path, "polling")], seen))
    seen.written(tmp_path / "a.png")
    partial = tmp_path / "x.png.part"
    partial.write_bytes(b"half")
    # the marker is seen once a poll has passed with the copy under way
    seen.written(tmp_path / "marker.png")
    partial.rename(tmp_path / "x.png")
    seen.wait(tmp_path / "x.png")
    assert partial not in seen.paths()


@pytest.mark.parametrize("kind", ["native", "polling"])
def test_recursive_root_sees_subfolders_but_not_processed(
    tmp_path: Path, seen: Seen, watching: list[Watching], kind: str
) -> None:
    """Files in subfolders are handed on; files filed into processed/ are not."""
    for folder in ("job", "processed"):
        (tmp_path / folder).mkdir()
    watching.append(start_observers([root(tmp_path, kind, recursive=True)], seen))
    (tmp_path / "processed" / "old.png").write_bytes(b"png")
    seen.written(tmp_path / "job" / "alice.png")
    # A file written after that one was seen is reported after any event still in flight.
    seen.written(tmp_path / "later.png")
    assert {p for p in seen.paths() if not in_scope(tmp_path, p, recursive=True)} == set()
    assert tmp_path / "processed" / "old.png" not in seen.paths()


@pytest.mark.parametrize("kind", ["native", "polling"])
def test_recursive_root_does_not_follow_a_symlink_out(
    tmp_path: Path, seen: Seen, watching: list[Watching], kind: str
) -> None:
    """A symlinked folder inside a recursive root is not watched through (§4)."""
    watched, outside = tmp_path / "in", tmp_path / "outside"
    watched.mkdir()
    outside.mkdir()
    (watched / "escape").symlink_to(outside, target_is_directory=True)
    watching.append(start_observers([root(watched, kind, recursive=True)], seen))
    (outside / "secret.png").write_bytes(b"png")
    (watched / "link.png").symlink_to(outside / "secret.png")
    sentinel = seen.written(watched / "later.png")
    # the link itself is passed on (the intake refuses it with a reason); nothing through it
    assert seen.paths() <= {sentinel, watched / "link.png"}
    assert outside / "secret.png" not in seen.paths()


def test_mixed_roots_each_report_their_own_files(
    tmp_path: Path, seen: Seen, watching: list[Watching]
) -> None:
    """One native and one polling root run side by side behind one Watching."""
    local, share = tmp_path / "local", tmp_path / "share"
    local.mkdir()
    share.mkdir()
    watching.append(start_observers([root(local, "native"), root(share, "polling")], seen))
    (local / "a.png").write_bytes(b"png")
    (share / "b.png").write_bytes(b"png")
    seen.wait(local / "a.png")
    seen.wait(share / "b.png")


def test_stop_joins_every_thread(tmp_path: Path, seen: Seen) -> None:
    """After stop() and join() no observer or emitter thread is left running."""
    local, share = tmp_path / "local", tmp_path / "share"
    local.mkdir()
    share.mkdir()
    before = set(threading.enumerate())
    observer = start_observers(
        [root(local, "native", recursive=True), root(share, "polling")], seen
    )
    assert len([t for t in threading.enumerate() if t not in before]) >= 4
    observer.stop()
    observer.join(timeout=5)
    assert [t.name for t in threading.enumerate() if t not in before and t.is_alive()] == []


def test_a_missing_root_raises_and_leaves_no_thread(tmp_path: Path, seen: Seen) -> None:
    """Watching a root that does not exist fails at once and stops what had started."""
    (tmp_path / "local").mkdir()
    roots = [root(tmp_path / "local", "native"), root(tmp_path / "gone", "polling")]
    before = set(threading.enumerate())
    with pytest.raises(OSError):
        start_observers(roots, seen)
    assert [t.name for t in threading.enumerate() if t not in before and t.is_alive()] == []
