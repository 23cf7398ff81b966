"""A hook command's stderr costs the service its last few KB, however much it writes
(issue 14 §19: 400 MB of stderr took the service to 845 MB). A real child process."""

from __future__ import annotations

import os
import sys
import tracemalloc

from viggle_watch.notify.commands import STDERR_KEEP_BYTES, run_command

FLOOD = (
    "import sys\n"
    "chunk = b'x' * 65536\n"
    "for _ in range(800): sys.stderr.buffer.write(chunk)\n"  # 50 MiB
    "sys.stderr.buffer.write(b'\\ndisk full')\n"
    "sys.exit(3)\n"
)


def test_only_the_tail_of_a_flood_of_stderr_is_kept() -> None:
    tracemalloc.start()
    try:
        code, tail = run_command([sys.executable, "-c", FLOOD], dict(os.environ), timeout_s=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (code, len(tail), tail.endswith(b"\ndisk full")) == (3, STDERR_KEEP_BYTES, True)
    assert peak < 4 * 1024 * 1024  # a few chunks, never the 50 MiB


def test_a_command_past_its_time_is_killed_with_its_session() -> None:
    sleeper = [sys.executable, "-c", "import time, sys; sys.stderr.write('x'); time.sleep(60)"]
    assert run_command(sleeper, dict(os.environ), timeout_s=0.5) == (None, b"")
