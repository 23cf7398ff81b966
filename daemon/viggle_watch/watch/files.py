"""Reading a file inside a watch root, safely: never through a link, never from a FIFO, a socket
or a device (which could make the reader wait for ever), never more than asked for."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

CHUNK: Final = 64 * 1024


def read_capped(path: Path, limit: int) -> bytes | None:
    """At most ``limit + 1`` bytes of the regular file at ``path`` (one more than allowed, so
    the caller can tell it is too big), or None when it is not a regular file or is gone.

    Opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` before reading: a link
    is not followed, and a FIFO cannot block the open or the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
