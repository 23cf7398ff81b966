"""Temp file in the destination folder → write → fchmod → fsync → replace → fsync the folder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final, TypeVar

T = TypeVar("T")
PART_SUFFIX: Final = ".part"


def part_path(dest: Path) -> Path:
    """Where ``dest`` is written before it is complete (``name.mp4.part``)."""
    return dest.with_name(dest.name + PART_SUFFIX)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(dest: Path, write: Callable[[IO[bytes]], T], *, mode: int = 0o644) -> T:
    """Run ``write`` on a temp file and publish it at ``dest`` only when complete and synced.

    On any failure the temp file is removed and ``dest`` is untouched. A failed ``fsync`` is
    not retried (the page cache may have dropped the data): the caller writes again.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(dest)
    try:
        with open(tmp, "wb") as f:
            result = write(f)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        tmp.replace(dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(dest.parent)
    return result


def write_bytes_atomic(dest: Path, data: bytes, *, mode: int = 0o644) -> None:
    write_atomic(dest, lambda f: f.write(data), mode=mode)
