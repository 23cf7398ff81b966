"""Is each watch folder still the one being watched? A folder deleted and made again (or a
share unmounted and mounted back) has a new inode, and the old watch sees nothing of it
(issue 14 §15). ``changed`` is the pure decision; ``identity_of`` the thin I/O."""

from __future__ import annotations

import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RootId = tuple[int, int] | None  # (device, inode); None: not there


def identity_of(path: Path) -> RootId:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


@dataclass(frozen=True, slots=True)
class RootChanges:
    gone: tuple[Path, ...]  # there when armed (or last seen), not now
    back: tuple[Path, ...]  # there now, but not the folder that was armed: arm it again


def changed(armed: Mapping[Path, RootId], now: Mapping[Path, RootId]) -> RootChanges:
    """Pure: compare the folders as they were armed with what is there now."""
    gone = tuple(p for p, was in armed.items() if was is not None and now.get(p) is None)
    back = tuple(p for p, was in armed.items() if now.get(p) is not None and now.get(p) != was)
    return RootChanges(gone, back)


def identities(paths: Iterable[Path]) -> dict[Path, RootId]:
    return {path: identity_of(path) for path in paths}
