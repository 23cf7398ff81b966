"""Startup scan and periodic rescan: the safety net for events the observer missed."""

from __future__ import annotations

import os
from pathlib import Path

from daemon.watch.filters import is_ignored


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
