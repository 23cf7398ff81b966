"""Pure: which file names are never inputs (in-progress copies, OS litter, our own files)."""

from __future__ import annotations

import re
from typing import Final

IN_PROGRESS_SUFFIXES: Final = (
    ".part",
    ".partial",
    ".tmp",
    ".crdownload",
    ".download",
    ".filepart",
    ".error.json",
)
LITTER: Final = frozenset({"Thumbs.db", "desktop.ini", "@eaDir", "READY"})
_SYNCTHING: Final = re.compile(r"^\.syncthing\..*\.tmp$")


def is_ignored(name: str) -> bool:
    """True for dotfiles, ``~$`` office locks, partial downloads and NAS/OS litter."""
    if not name or name.startswith((".", "~$", "._")):
        return True
    if name in LITTER or _SYNCTHING.match(name):
        return True
    return name.lower().endswith(IN_PROGRESS_SUFFIXES)
