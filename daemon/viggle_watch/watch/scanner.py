"""Startup scan and periodic rescan: the safety net for events the observer missed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from viggle_watch.watch.filters import is_ignored

# Where inputs are filed away (viggle_watch/outputs/filing.py FILED; a test keeps the two equal).
# Only these folders directly under a watch root are skipped: a job folder may hold its own.
FILED_FOLDERS: Final = frozenset({"processed", "failed", "Source"})

# Files an OS or a NAS adds to a folder *after* a copy (thumbnails, Finder state). A folder's
# signature leaves them out, or a settled job folder would look changed and be handed on again.
# In-progress names (.part, rsync's .name.XXXXXX) do count, so the signature moves during a copy.
_LATE_LITTER: Final = frozenset({"Thumbs.db", "desktop.ini", ".DS_Store", "@eaDir"})


_GONE: Final = (-1, -1)
"""The signature of a file that vanished before it was measured: no real file has it."""


class Entry:
    """A candidate input: a file, or a job folder whose size and mtime cover its content.

    A scan builds entries from the folder listing alone (names and file types). ``size`` and
    ``mtime_ns`` are measured on first use (an lstat; a folder's :func:`folder_signature`) and
    ``path`` is built on each use, not kept: an entry the caller drops by its name costs no
    stat and no ``Path``, and a rescan of 50,000 files holds only names.
    """

    __slots__ = ("_folder", "_name", "_signature", "is_dir")

    def __init__(self, path: Path, size: int, mtime_ns: int, is_dir: bool) -> None:
        self._folder, self._name = path.parent, path.name
        self._signature: tuple[int, int] | None = (size, mtime_ns)
        self.is_dir = is_dir

    @classmethod
    def listed(cls, folder: Path, name: str, *, is_dir: bool) -> Entry:
        """The entry for ``name`` in ``folder``, measured only when asked."""
        entry = cls.__new__(cls)
        entry._folder, entry._name, entry._signature, entry.is_dir = folder, name, None, is_dir
        return entry

    @property
    def path(self) -> Path:
        return self._folder / self._name

    @property
    def size(self) -> int:
        return self.signature()[0]

    @property
    def mtime_ns(self) -> int:
        return self.signature()[1]

    def signature(self) -> tuple[int, int]:
        """(size, mtime_ns), measured once; :data:`_GONE` if the file vanished meanwhile."""
        if self._signature is None:
            path = self._folder / self._name
            if self.is_dir:
                self._signature = folder_signature(path)
            else:
                try:
                    st = os.lstat(path)
                    self._signature = (st.st_size, st.st_mtime_ns)
                except OSError:
                    self._signature = _GONE
        return self._signature

    def _key(self) -> tuple[Path, int, int, bool]:
        return self.path, self.size, self.mtime_ns, self.is_dir

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        path, size, mtime_ns, is_dir = self._key()
        return f"Entry(path={path!r}, size={size}, mtime_ns={mtime_ns}, is_dir={is_dir})"


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
    An unreadable ``root`` gives ``[]``; an unreadable subfolder is skipped. The listing gives
    each entry's type; sizes and mtimes are read only for the entries the caller looks at.
    """
    found: list[Entry] = []
    parts: dict[Path, tuple[str, ...]] = {root: ()}  # each folder's path below root
    folders = [root]
    while folders:
        folder = folders.pop()
        top = folder == root
        for name, is_dir in _typed_listing(folder, top=top):
            if not is_dir:
                found.append(Entry.listed(folder, name, is_dir=False))
                continue
            if recursive:
                sub = folder / name
                parts[sub] = (*parts[folder], name)
                folders.append(sub)
            if dirs and top:
                found.append(Entry.listed(folder, name, is_dir=True))
    if len(parts) == 1:  # one folder: its names order the entries as their paths would
        found.sort(key=_name_of)
    else:
        found.sort(key=lambda e: (*parts[e._folder], e._name))
    return found


def _name_of(entry: Entry) -> str:
    return entry._name


def _typed_listing(folder: Path, *, top: bool) -> Iterator[tuple[str, bool]]:
    """(name, is a folder) for each regular file and folder in ``folder``.

    Typed by the listing itself (no stat where the filesystem reports types); minus litter,
    symlinks and, at the top, the filed folders. Nothing more once ``folder`` cannot be read.
    """
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if is_ignored(name) or (top and name in FILED_FOLDERS):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        yield name, False
                    elif entry.is_dir(follow_symlinks=False):
                        yield name, True
                except OSError:  # vanished between the listing and a stat
                    continue
    except OSError:
        return


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
