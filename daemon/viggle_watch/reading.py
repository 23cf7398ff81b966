"""Reading a file safely: only a regular file (a FIFO, a socket or a device could make the
reader wait for ever), never more than asked for. Inside watch roots a link is never followed;
config, rule, key and secret files may be links (mounted secrets often are), but must end at a
regular file (issue 14 §1)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

CHUNK: Final = 64 * 1024


class NotRegularFileError(OSError):
    """The path is a FIFO, a socket, a device or a folder (or, not following links, a link)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is not a regular file")
        self.strerror = "not a regular file (a pipe, a device, a folder or a link)"


def open_regular(path: Path, *, follow_links: bool) -> int:
    """A descriptor of the regular file at ``path``, opened with ``O_NONBLOCK`` (and
    ``O_NOFOLLOW`` unless ``follow_links``) and checked with ``fstat``: what is read is what
    was checked. Raises ``OSError``, and ``NotRegularFileError`` for anything else."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_links and path.is_symlink():
            raise NotRegularFileError(path) from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFileError(path)
    return fd


def read_regular(path: Path, limit: int, *, follow_links: bool) -> bytes:
    """At most ``limit + 1`` bytes of the regular file at ``path`` (one more than allowed, so
    the caller can tell it is too big). Opened with ``O_NONBLOCK`` (and ``O_NOFOLLOW`` unless
    ``follow_links``) and checked with ``fstat`` before reading. Raises ``OSError``, and
    ``NotRegularFileError`` for anything but a regular file."""
    fd = open_regular(path, follow_links=follow_links)
    try:
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_capped(path: Path, limit: int) -> bytes | None:
    """What a watch root holds at ``path`` (links not followed): at most ``limit + 1`` bytes
    of a regular file, or None when it is anything else or is gone."""
    try:
        return read_regular(path, limit, follow_links=False)
    except OSError:
        return None
