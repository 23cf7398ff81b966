"""Tests for viggle_watch.watch.scanner: what a startup scan or rescan finds under a watch root."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from viggle_watch.outputs.failure import FILED
from viggle_watch.watch.scanner import (
    FILED_FOLDERS,
    Entry,
    folder_signature,
    in_scope,
    scan,
    scan_entries,
)

NS = 1_000_000_000


def put(path: Path, data: bytes = b"x", mtime_s: int = 1_700_000_000) -> Path:
    """Write ``path`` (and its folders) with ``data`` and a fixed mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_s * NS, mtime_s * NS))
    return path


def file_entry(path: Path, size: int = 1, mtime_s: int = 1_700_000_000) -> Entry:
    """The Entry a file written by ``put`` scans as."""
    return Entry(path, size, mtime_s * NS, is_dir=False)


def test_filed_folders_match_the_archive() -> None:
    """The folders skipped are exactly those inputs are filed into."""
    assert FILED_FOLDERS == FILED


def test_scan_entries_lists_files_directly_in_root(tmp_path: Path) -> None:
    """Without options: regular files in the root only, sorted, with size and mtime."""
    b = put(tmp_path / "b.mp4", b"video")
    a = put(tmp_path / "a.png", b"png")
    put(tmp_path / "sub" / "deep.png")
    assert scan_entries(tmp_path) == [file_entry(a, 3), file_entry(b, 5)]


def test_scan_entries_skips_symlinks(tmp_path: Path) -> None:
    """A symlink to a file or to a folder outside the root is never listed nor followed."""
    root, outside = tmp_path / "in", tmp_path / "outside"
    real = put(root / "real.png")
    put(outside / "secret.png")
    (root / "link.png").symlink_to(outside / "secret.png")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    expected = [file_entry(real)]
    assert (
        scan_entries(root),
        scan_entries(root, recursive=True),
        scan_entries(root, recursive=True, dirs=True),
    ) == (expected, expected, expected)


def test_scan_entries_skips_in_progress_and_litter(tmp_path: Path) -> None:
    """Dotfiles, partial downloads and NAS litter are not inputs."""
    keep = put(tmp_path / "hero.png")
    for name in (".hidden.png", "hero.png.part", "clip.mp4.crdownload", "Thumbs.db", "._hero.png"):
        put(tmp_path / name)
    put(tmp_path / "@eaDir" / "hero.png" / "SYNOFILE_THUMB_M.jpg")
    assert scan_entries(tmp_path, recursive=True, dirs=True) == [file_entry(keep)]


def test_scan_entries_skips_filed_folders_under_root(tmp_path: Path) -> None:
    """processed/, failed/ and Source/ directly under the root are never rescanned."""
    keep = put(tmp_path / "job" / "processed" / "a.png")  # deeper down: a job's own folder
    for folder in ("processed", "failed", "Source"):
        put(tmp_path / folder / "old.png")
    assert scan_entries(tmp_path, recursive=True) == [file_entry(keep)]
    assert [e.path for e in scan_entries(tmp_path, dirs=True)] == [tmp_path / "job"]


def test_scan_entries_recursive_walks_subfolders(tmp_path: Path) -> None:
    """``recursive`` finds files at any depth, skipping ignored folders on the way."""
    top = put(tmp_path / "top.png")
    deep = put(tmp_path / "a" / "b" / "deep.mp4", b"mp4")
    put(tmp_path / ".cache" / "hidden.png")
    assert scan_entries(tmp_path, recursive=True) == [file_entry(deep, 3), file_entry(top)]


def test_scan_entries_dirs_sums_the_folder(tmp_path: Path) -> None:
    """A job folder's size is its files' total and its mtime the newest one inside."""
    put(tmp_path / "job" / "alice.png", b"12345", mtime_s=1_700_000_010)
    put(tmp_path / "job" / "scenes" / "dance.mp4", b"123", mtime_s=1_700_000_020)
    loose = put(tmp_path / "loose.png")
    assert scan_entries(tmp_path, dirs=True) == [
        Entry(tmp_path / "job", 8, 1_700_000_020 * NS, is_dir=True),
        file_entry(loose),
    ]


def test_scan_entries_dirs_and_recursive_give_both(tmp_path: Path) -> None:
    """With both options the job folder and the files inside it are listed."""
    inner = put(tmp_path / "job" / "alice.png", b"12")
    assert scan_entries(tmp_path, recursive=True, dirs=True) == [
        Entry(tmp_path / "job", 2, 1_700_000_000 * NS, is_dir=True),
        file_entry(inner, 2),
    ]


def test_folder_signature_changes_while_files_are_copied_in(tmp_path: Path) -> None:
    """Adding a file (even under an in-progress name) or growing one changes the signature."""
    job = tmp_path / "job"
    put(job / "alice.png", b"1234")
    first = folder_signature(job)
    put(job / "dance.mp4.part", b"12", mtime_s=1_700_000_100)
    second = folder_signature(job)
    with (job / "dance.mp4.part").open("ab") as f:
        f.write(b"345")
    third = folder_signature(job)
    assert (first, second[0], third[0]) == ((4, 1_700_000_000 * NS), 6, 9)
    assert len({first, second, third}) == 3


def test_folder_signature_ignores_late_litter_and_symlinks(tmp_path: Path) -> None:
    """Thumbnails, Finder state and symlinks added after a copy leave the signature alone."""
    job = tmp_path / "job"
    put(job / "alice.png", b"1234")
    before = folder_signature(job)
    put(job / "Thumbs.db", b"thumbs", mtime_s=1_800_000_000)
    put(job / ".DS_Store", b"finder", mtime_s=1_800_000_000)
    put(job / "@eaDir" / "alice.png" / "SYNOFILE_THUMB_M.jpg", b"jpg", mtime_s=1_800_000_000)
    put(tmp_path / "big.bin", b"x" * 100, mtime_s=1_800_000_000)
    (job / "link.bin").symlink_to(tmp_path / "big.bin")
    assert folder_signature(job) == before


def test_folder_signature_of_an_empty_folder(tmp_path: Path) -> None:
    """Nothing inside: (0, 0)."""
    assert folder_signature(tmp_path) == (0, 0)


def test_scan_entries_of_a_missing_root_is_empty(tmp_path: Path) -> None:
    """An unmounted share (no root) lists nothing rather than raising."""
    assert scan_entries(tmp_path / "gone", recursive=True, dirs=True) == []


def test_scan_is_unchanged(tmp_path: Path) -> None:
    """``scan`` still lists only regular files directly in the root."""
    a = put(tmp_path / "a.png")
    put(tmp_path / "sub" / "b.png")
    put(tmp_path / "c.png.part")
    (tmp_path / "d.png").symlink_to(a)
    assert scan(tmp_path) == [a]


@pytest.mark.parametrize(
    ("relative", "recursive", "expected"),
    [
        ("a.png", False, True),
        ("a.png", True, True),
        ("sub/a.png", False, False),
        ("sub/a.png", True, True),
        ("sub/deeper/a.png", True, True),
        ("job/processed/a.png", True, True),
    ],
)
def test_in_scope(relative: str, recursive: bool, expected: bool) -> None:
    """Events are kept for direct children, and for files in subfolders when recursive."""
    root = Path("/srv/in")
    assert in_scope(root, root / relative, recursive=recursive) is expected


@pytest.mark.parametrize(
    ("relative", "recursive"),
    [
        ("processed/a.png", True),
        ("failed/a.png", True),
        ("Source/2024-05-01/a.png", True),
        ("a.png.part", False),
        ("sub/a.png.part", True),
        (".sync/a.png", True),
        ("@eaDir/a.png/thumb.jpg", True),
    ],
)
def test_in_scope_never_for_filed_folders_partial_copies_or_litter(
    relative: str, recursive: bool
) -> None:
    """Events in the root's filed folders, on ``.part`` copies or in sync/NAS litter are dropped."""
    root = Path("/srv/in")
    assert in_scope(root, root / relative, recursive=recursive) is False


def test_in_scope_rejects_paths_outside_the_root_and_the_root_itself() -> None:
    """A sibling folder or the root itself is not an input of the root."""
    root = Path("/srv/in")
    assert (
        in_scope(root, Path("/srv/other/a.png"), recursive=True),
        in_scope(root, root, recursive=True),
    ) == (False, False)


def test_scan_entries_orders_nested_paths_as_paths_sort(tmp_path: Path) -> None:
    """Names that sort differently as text than as paths ("a b/", "a.b/", "a/") keep path order."""
    files = [
        put(tmp_path / folder / name)
        for folder in ("a", "a b", "a.b", "a0", "b", ".")
        for name in ("x.png", "a.png", "z z.png")
    ]
    assert [e.path for e in scan_entries(tmp_path, recursive=True)] == sorted(files)


def test_a_scan_stats_only_the_entries_that_are_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing and naming entries costs no stat; each size is read once, when first asked."""
    for name in ("a.png", "b.txt", "c.txt"):
        put(tmp_path / name, b"abc")
    calls: list[str] = []
    real_lstat = os.lstat

    def lstat(path: str | os.PathLike[str]) -> os.stat_result:
        calls.append(os.fspath(path))
        return real_lstat(path)

    monkeypatch.setattr(os, "lstat", lstat)
    entries = scan_entries(tmp_path)
    names = [e.path.name for e in entries]
    wanted = [e for e in entries if e.path.suffix == ".png"]
    before = len(calls)
    sizes = [(e.size, e.mtime_ns, e.size) for e in wanted]
    assert (names, before, sizes, calls) == (
        ["a.png", "b.txt", "c.txt"],
        0,
        [(3, 1_700_000_000 * NS, 3)],
        [str(tmp_path / "a.png")],
    )


def test_an_entry_that_vanished_before_it_was_measured(tmp_path: Path) -> None:
    """A file removed between the listing and the stat has a signature no file has."""
    put(tmp_path / "a.png")
    (entry,) = scan_entries(tmp_path)
    (tmp_path / "a.png").unlink()
    assert (entry.path, entry.signature()) == (tmp_path / "a.png", (-1, -1))


def test_listed_and_built_entries_compare_equal(tmp_path: Path) -> None:
    """A scanned entry equals, hashes and prints like one built from its values."""
    path = put(tmp_path / "a.png", b"12")
    (scanned,) = scan_entries(tmp_path)
    built = file_entry(path, 2)
    assert (scanned, hash(scanned), repr(scanned)) == (
        built,
        hash(built),
        f"Entry(path={path!r}, size=2, mtime_ns={1_700_000_000 * NS}, is_dir=False)",
    )


def test_a_scan_holds_names_not_paths_and_stat_results(tmp_path: Path) -> None:
    """A scan of many files peaks well under 400 bytes a file (it took over 1.3 KB)."""
    for i in range(3000):
        (tmp_path / f"note{i:05d}.txt").write_bytes(b"x")
    tracemalloc.start()
    try:
        entries = scan_entries(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ({e.path.suffix for e in entries}, peak // 3000 < 400) == ({".txt"}, True)
