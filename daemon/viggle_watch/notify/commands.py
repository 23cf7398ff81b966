"""Running a hook's command: no shell, no API key in its environment, a time limit that kills
its whole session, and only the tail of its stderr kept — a command that writes 400 MB of
errors costs the service a few KB, not 400 MB (issue 14 §19)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from typing import Final

STDERR_KEEP_BYTES: Final = 4096
CHUNK: Final = 64 * 1024


def run_command(
    command: list[str], env: Mapping[str, str], timeout_s: float
) -> tuple[int | None, bytes]:
    """Run ``command`` (no shell); its exit code (None: timed out) and the last
    ``STDERR_KEEP_BYTES`` of its stderr. On timeout the whole session is killed: a child still
    holding stderr open would keep us waiting."""
    with subprocess.Popen(  # noqa: S603 - argv from the config file, never a shell
        command,
        shell=False,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # only stderr is kept, for the note
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as proc:
        fd = proc.stderr.fileno() if proc.stderr is not None else -1
        tail: list[bytes] = []
        reader = threading.Thread(target=lambda: tail.append(_tail(fd)), daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            reader.join()
            return None, b""
        reader.join()  # the stream ends when the last holder of stderr exits
    return proc.returncode, tail[0] if tail else b""


def _tail(fd: int) -> bytes:
    """Read the pipe ``fd`` to its end, keeping only its last ``STDERR_KEEP_BYTES``."""
    kept = bytearray()
    while chunk := os.read(fd, CHUNK):
        kept += chunk
        if len(kept) > STDERR_KEEP_BYTES:
            del kept[:-STDERR_KEEP_BYTES]
    return bytes(kept)
