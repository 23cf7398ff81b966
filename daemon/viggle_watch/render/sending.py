"""The bytes sent are the bytes checked (issue 14 §3, §8): an input is opened once, without
following links, checked from that descriptor to be the regular file of the size and sha256
the intake measured (its video length was measured from those same bytes), and uploaded from
that descriptor — a file swapped, padded or linked in after the check is never sent.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from contextlib import ExitStack
from pathlib import Path
from typing import Final

from viggle_watch.errors import InputChangedError, NotSentError
from viggle_watch.store.spec import InputRef
from viggle_watch.viggle.inputs import Opened

CHUNK: Final = 1024 * 1024


def looks_unmounted(folder: Path) -> bool:
    """A folder that is gone or empty while a job still needs a file in it."""
    try:
        return not any(folder.iterdir())
    except OSError:
        return True


def open_checked(ref: InputRef, stack: ExitStack) -> Opened:
    """``ref``'s file, open and verified (closed with ``stack``). ``InputChangedError`` when it
    is gone or is not what was checked; ``NotSentError`` when its folder looks unmounted (a
    share that will be back: wait, fail nothing)."""
    path = Path(ref.path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        if looks_unmounted(path.parent):
            raise NotSentError(f"{path.parent} looks unmounted; {path.name} waits") from None
        raise InputChangedError("input_missing", f"input file is gone: {path}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputChangedError(
                "input_changed", f"{path.name} was replaced by a link after it was checked"
            ) from None
        raise NotSentError(f"cannot open {path}: {exc.strerror}") from None
    file = stack.enter_context(os.fdopen(fd, "rb"))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size != ref.size or _sha256(fd) != ref.sha256:
        raise InputChangedError(
            "input_changed",
            f"{path.name} changed after it was checked; drop it again to render it",
        )
    return Opened(path.name, file, info.st_size)


def _sha256(fd: int) -> str:
    digest, offset = hashlib.sha256(), 0
    while chunk := os.pread(fd, CHUNK, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()
