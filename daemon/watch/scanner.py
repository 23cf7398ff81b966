"""Startup scan and periodic rescan: the safety net for events the observer missed."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from daemon.watch.filters import is_ignored

# Where inputs are filed away (daemon/outputs/archive.py FILED; a test keeps the two equal).
# Only these folders directly under a watch root are skipped: a job folder may hold its own.
FILED_FOLDERS: Final = frozenset({"processed", "failed", "Source"})

# Files an OS or a NAS adds to a folder *after* a copy (thumbnails, Finder state). A folder's
# signature leaves them out, or a settled job folder would look changed and be handed on again.
# In-progress names (.part, rsync's .name.XXXXXX) do count, so the signature moves during a copy.
_LATE_LITTER: Final = frozenset({"Thumbs.db", "desktop.ini", ".DS_Store", "@eaDir"})


@dataclass(frozen=True, slots=True)
class Entry:
    """A candidate input: a file, or a job folder whose size and mtime cover its content."""

    path: Path
    size: int
    mtime_ns: int
    is_dir: bool


def in_scope(root: Path, path: Path, *, recursive: bool) -> bool:
    """Pure: could ``path`` be an input of watch root ``root``? (Used for observer events.)

    Direct children always; deeper paths only when ``recursive``; never anything under the
    filed folders directly below ``root``, nor a path with an ignored name in any component.
    """
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    if not parts or parts[0] in FILED_FOLDERS or any(is_ignored(p) for p in parts):
        return False
    return recursive or len(parts) == 1


def scan(root: Path) -> list[Path]:
    """Regular files directly in ``root`` that could be inputs (no symlinks, no litter)."""
    found: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return found
    for entry in entries:
        if is_ignored(entry.name) or entry.is_symlink():
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
        except OSError:
            continue
    return sorted(found)


def scan_entries(root: Path, *, recursive: bool = False, dirs: bool = False) -> list[Entry]:
    """Candidate inputs under ``root``, sorted by path; symlinks are never followed.

    Files directly in ``root`` (and in its subfolders when ``recursive``), skipping ignored
    names and the filed folders; with ``dirs``, also each immediate subfolder as a job folder
    whose size is the total of its files and whose mtime is the newest among them.
    An unreadable ``root`` gives ``[]``; an unreadable subfolder is skipped.
    """
    found: list[Entry] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        top = folder == root
        for entry, st in _candidates(folder, top=top):
            path = Path(entry.path)
            if stat.S_ISREG(st.st_mode):
                found.append(Entry(path, st.st_size, st.st_mtime_ns, is_dir=False))
            elif stat.S_ISDIR(st.st_mode):
                if recursive:
                    folders.append(path)
                if dirs and top:
                    size, mtime_ns = folder_signature(path)
                    found.append(Entry(path, size, mtime_ns, is_dir=True))
    return sorted(found, key=lambda e: e.path)


def folder_signature(folder: Path) -> tuple[int, int]:
    """(total bytes, newest mtime_ns) of the regular files anywhere in ``folder``; (0, 0) if none.

    Symlinks are not followed; OS/NAS litter added after a copy is left out (see above).
    """
    size, newest = 0, 0
    pending = [folder]
    while pending:
        for entry in _listing(pending.pop()):
            st = _lstat(entry)
            if st is None or entry.name in _LATE_LITTER:
                continue
            if stat.S_ISREG(st.st_mode):
                size += st.st_size
                newest = max(newest, st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode) and not entry.name.startswith("."):
                pending.append(Path(entry.path))
    return size, newest


def _candidates(folder: Path, *, top: bool) -> list[tuple[os.DirEntry[str], os.stat_result]]:
    """Entries of ``folder`` with their lstat, minus litter and (at the top) filed folders."""
    kept: list[tuple[os.DirEntry[str], os.stat_result]] = []
    for entry in _listing(folder):
        if is_ignored(entry.name) or (top and entry.name in FILED_FOLDERS):
            continue
        st = _lstat(entry)
        if st is not None and not stat.S_ISLNK(st.st_mode):
            kept.append((entry, st))
    return kept


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


def _lstat(entry: os.DirEntry[str]) -> os.stat_result | None:
    try:
        return entry.stat(follow_symlinks=False)
    except OSError:  # vanished between the listing and the stat
        return None
