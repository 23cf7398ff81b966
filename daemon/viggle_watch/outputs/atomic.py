"""Temp file in the destination folder → write → fchmod → fsync → replace → fsync the folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final, TypeVar

from viggle_watch.errors import DownloadError

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


def _fill_and_rename(dest: Path, how: str, fill: Callable[[IO[bytes]], T], mode: int) -> T:
    """Run ``fill`` on ``dest.part`` (opened with ``how``), make it durable with ``mode``, then
    rename it to ``dest``; the folder is not synced yet."""
    tmp = part_path(dest)
    with open(tmp, how) as f:
        result = fill(f)
        f.flush()
        os.fchmod(f.fileno(), mode)
        os.fsync(f.fileno())
    tmp.replace(dest)
    return result


def _discard(tmp: Path) -> None:
    """Remove a temp file that will not be published, if it can be."""
    with contextlib.suppress(OSError):
        tmp.unlink()


def write_atomic(dest: Path, write: Callable[[IO[bytes]], T], *, mode: int = 0o644) -> T:
    """Run ``write`` on a temp file and publish it at ``dest`` only when complete and synced.

    On any failure the temp file is removed and ``dest`` is untouched. A failed ``fsync`` is
    not retried (the page cache may have dropped the data): the caller writes again.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = _fill_and_rename(dest, "wb", write, mode)
    except BaseException:
        _discard(part_path(dest))
        raise
    fsync_dir(dest.parent)
    return result


def write_bytes_atomic(dest: Path, data: bytes, *, mode: int = 0o644) -> None:
    write_atomic(dest, lambda f: f.write(data), mode=mode)


def sha256_of(path: Path) -> Any:
    """A running sha256 already fed with the bytes of ``path`` (to resume a download)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest


Fetch = Callable[[IO[bytes], int, Any], T]


def publish_resumable(dest: Path, fetch: Fetch[T], *, mode: int = 0o644) -> T:
    """Fill ``dest.part`` (resuming what a broken earlier try left), then publish it at ``dest``.

    ``fetch(file, offset, digest)`` appends to ``file`` after ``offset`` bytes already in it.
    A broken transfer keeps the partial file for the next try; any other failure (disk full,
    a failed fsync) removes it. The published file is fsynced, then renamed, then the folder.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(dest)
    offset = tmp.stat().st_size if tmp.exists() else 0
    digest = sha256_of(tmp) if offset else hashlib.sha256()
    try:
        result = _fill_and_rename(dest, "ab", lambda f: fetch(f, offset, digest), mode)
    except DownloadError as exc:
        if exc.restart:
            tmp.unlink(missing_ok=True)
        raise
    except BaseException:
        _discard(tmp)
        raise
    fsync_dir(dest.parent)
    return result
