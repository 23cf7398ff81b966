"""Tests for viggle_watch.watch.stability: stable after settle_s with no event or change."""

from __future__ import annotations

import os
import stat
import tracemalloc
from pathlib import Path

from viggle_watch.watch.stability import SettleTracker, StableFile

SETTLE_S = 5.0
PATH = Path("/in/hero.png")


class FakeFiles:
    """A fake ``stat``: path → (size, mtime_ns); absent paths raise FileNotFoundError."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[int, int]] = {}
        self.calls = 0

    def __call__(self, path: Path) -> os.stat_result:
        self.calls += 1
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        size, mtime_ns = self.files[path]
        fields = (stat.S_IFREG | 0o644, 1, 1, 1, 0, 0, size, 0, mtime_ns // 10**9, 0)
        return os.stat_result(fields, {"st_mtime_ns": mtime_ns})


def make_tracker() -> tuple[SettleTracker, FakeFiles]:
    """A tracker over fake files with SETTLE_S."""
    files = FakeFiles()
    return SettleTracker(SETTLE_S, stat=files), files


def tracking(size: int = 10, mtime_ns: int = 100) -> tuple[SettleTracker, FakeFiles]:
    """A tracker with PATH at (size, mtime_ns), touched at 0.0 and not yet sampled."""
    tracker, files = make_tracker()
    files.files[PATH] = (size, mtime_ns)
    tracker.touch(PATH, now=0.0)
    return tracker, files


def sampled(size: int = 10, mtime_ns: int = 100) -> tuple[SettleTracker, FakeFiles]:
    """A tracker with PATH touched at 0.0 and sampled at 1.0 (too early to hand it on)."""
    tracker, files = tracking(size, mtime_ns)
    assert tracker.stable(now=1.0) == []  # first sample: dates from the event at 0.0
    return tracker, files


def handed_on_once(size: int = 10, mtime_ns: int = 100) -> tuple[SettleTracker, FakeFiles]:
    """A tracker that has sampled PATH at 1.0 and handed it on at 6.0."""
    tracker, files = sampled(size, mtime_ns)
    assert tracker.stable(now=6.0) == [StableFile(PATH, size, mtime_ns)]
    return tracker, files


def test_fake_stat_gives_size_and_mtime_ns() -> None:
    """The fake stat is faithful enough for the tracker (size and mtime_ns)."""
    files = FakeFiles()
    files.files[PATH] = (10, 1_000_000_000_123)
    st = files(PATH)
    assert (st.st_size, st.st_mtime_ns) == (10, 1_000_000_000_123)


def test_quiet_unchanged_file_becomes_stable_after_settle() -> None:
    """Two equal samples, settle_s after the last event: the file is handed on once."""
    tracker, _ = sampled()
    assert tracker.stable(now=4.9) == []  # equal sample, but not yet settle_s after the event
    assert tracker.stable(now=5.0) == [StableFile(PATH, 10, 100)]
    assert (tracker.stable(now=20.0), tracker.pending()) == ([], 0)


def test_not_stable_until_settle_after_the_last_event() -> None:
    """A later event restarts the quiet period even if size and mtime did not change."""
    tracker, _ = sampled()
    tracker.touch(PATH, now=4.0)
    assert tracker.stable(now=8.9) == []
    assert tracker.stable(now=9.0) == [StableFile(PATH, 10, 100)]


def test_not_stable_until_settle_after_the_last_change() -> None:
    """A size or mtime change seen by a sample restarts the quiet period."""
    tracker, files = sampled()
    files.files[PATH] = (10, 200)  # same size, new mtime (rewritten in place)
    assert tracker.stable(now=7.0) == []
    assert tracker.stable(now=11.9) == []
    assert tracker.stable(now=12.0) == [StableFile(PATH, 10, 200)]


def test_a_file_that_keeps_growing_never_settles() -> None:
    """A slow copy that grows between every sample is never handed on."""
    tracker, files = make_tracker()
    tracker.touch(PATH, now=0.0)
    ready = []
    for step in range(1, 50):
        files.files[PATH] = (step * 1000, step)
        ready += tracker.stable(now=step * 10.0)
    assert (ready, tracker.pending()) == ([], 1)


def test_a_rescan_touch_of_an_unchanged_file_is_not_emitted_again() -> None:
    """Seeing an already handed-on file again (same size and mtime) emits nothing."""
    tracker, _ = handed_on_once()
    tracker.touch(PATH, now=300.0)
    assert tracker.stable(now=301.0) == []
    assert (tracker.stable(now=306.0), tracker.pending()) == ([], 0)


def test_a_file_changed_after_emission_is_emitted_again() -> None:
    """New content at the same path (new size or mtime) is new work."""
    tracker, files = handed_on_once()
    files.files[PATH] = (20, 300)
    tracker.touch(PATH, now=50.0)
    assert tracker.stable(now=51.0) == []
    assert tracker.stable(now=56.0) == [StableFile(PATH, 20, 300)]


def test_a_vanished_file_is_dropped() -> None:
    """A file deleted while settling is forgotten, not reported and not retried."""
    tracker, files = sampled()
    del files.files[PATH]
    assert (tracker.stable(now=10.0), tracker.pending()) == ([], 0)
    calls = files.calls
    assert (tracker.stable(now=20.0), files.calls) == ([], calls)


def test_forget_allows_the_same_file_to_be_emitted_again() -> None:
    """After ``forget`` (the input was moved away) an identical file is new work."""
    tracker, _ = handed_on_once()
    tracker.forget(PATH)
    tracker.touch(PATH, now=100.0)
    tracker.stable(now=101.0)
    assert tracker.stable(now=106.0) == [StableFile(PATH, 10, 100)]


def test_forget_drops_a_pending_file() -> None:
    """``forget`` also drops a file that is still settling."""
    tracker, _ = tracking()
    tracker.forget(PATH)
    assert (tracker.pending(), tracker.stable(now=100.0)) == (0, [])


def test_files_settle_independently() -> None:
    """One busy file does not hold back a quiet one."""
    tracker, files = make_tracker()
    quiet, busy = Path("/in/quiet.png"), Path("/in/busy.png")
    files.files[quiet] = (10, 100)
    files.files[busy] = (1, 1)
    tracker.touch(quiet, now=0.0)
    tracker.touch(busy, now=0.0)
    tracker.stable(now=1.0)
    files.files[busy] = (2, 2)
    assert tracker.stable(now=6.0) == [StableFile(quiet, 10, 100)]
    assert tracker.pending() == 1


def test_a_rescan_skips_a_handed_on_file_without_a_stat() -> None:
    """touch_scanned with the handed-on signature tracks nothing; any other signature does."""
    tracker, files = handed_on_once(10, -5)  # an mtime before 1970 is a signature like any other
    calls = files.calls
    tracker.touch_scanned(PATH, (10, -5), now=300.0)
    unchanged = (tracker.pending(), files.calls - calls)
    tracker.touch_scanned(PATH, (10, -4), now=300.0)
    assert (unchanged, tracker.pending()) == ((0, 0), 1)


def hand_on(tracker: SettleTracker, count: int) -> int:
    """Touch ``count`` files and let them settle; return how many were handed on."""
    for i in range(count):
        tracker.touch(Path(f"/srv/watch/characters/IMG_{i:06d}.png"), now=0.0)
    tracker.stable(now=1.0)
    return len(tracker.stable(now=2.0))


def test_handed_on_files_are_remembered_compactly() -> None:
    """What a rescan must not hand on again costs well under 300 bytes a file (was over 450)."""
    size, mtime_ns = 1_234_567, 1_700_000_000_123_456_789
    fields = (stat.S_IFREG | 0o644, 1, 1, 1, 0, 0, size, 0, 0, 0)
    st = os.stat_result(fields, {"st_mtime_ns": mtime_ns})
    hand_on(SettleTracker(0.0, stat=lambda _: st), 2000)  # the interpreter's own tables grow
    tracker = SettleTracker(0.0, stat=lambda _: st)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        handed_on = hand_on(tracker, 2000)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert (handed_on, tracker.pending(), held // 2000 < 300) == (2000, 0, True)


def test_wait_for_work_sleeps_while_nothing_settles_and_wakes_on_a_touch() -> None:
    """The settle loop's wait: False at once when idle (timeout 0), True while a file is
    pending, and a touch from another thread releases a waiter."""
    import threading

    tracker = SettleTracker(1.0)
    idle = tracker.wait_for_work(0)
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(tracker.wait_for_work(60)))
    waiter.start()
    tracker.touch(Path("/in/a.png"), 0.0)
    waiter.join(timeout=60)
    pending = tracker.wait_for_work(0)
    assert (idle, woke, pending) == (False, [True], True)
