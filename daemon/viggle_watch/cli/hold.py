"""`run` under a supervisor that restarts it whatever its exit code — a container's restart
policy (Docker and Podman have no ``RestartPreventExitStatus``, which the systemd unit uses).
Restarted at once into the same broken config, `run` would fill the log with the same line many
times a second. With ``VIGGLE_WATCH_ON_ERROR=wait`` (the image sets it: docs/container.md), a
`run` that stops for a broken config (exit 2) waits until its config file changes, or a minute
at most (the fix may be elsewhere: a video copied into place); one that stops for a passing
trouble (exit 75: a share not mounted yet, the store busy) waits a few seconds. Then it exits
with the same code, and the supervisor starts it again."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

MODE_VAR: Final = "VIGGLE_WATCH_ON_ERROR"
EXIT_USAGE, EXIT_TEMPFAIL = 2, 75
BROKEN_WAIT_S: Final = 60.0
PASSING_WAIT_S: Final = 10.0
POLL_S: Final = 1.0


def longest_wait(mode: str | None, code: int) -> float | None:
    """How long a `run` that ended with ``code`` waits before exiting (None: not at all)."""
    if mode != "wait":
        return None
    return {EXIT_USAGE: BROKEN_WAIT_S, EXIT_TEMPFAIL: PASSING_WAIT_S}.get(code)


def fingerprint(path: Path) -> tuple[int, int] | None:
    """What tells an edit: the file's modification time and size (None: not there)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def hold(
    code: int,
    config: Path | None,
    *,
    forever: bool = False,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Wait as ``longest_wait`` says, ending early when ``config`` changes (exit 2 only);
    ``forever``: until it changes (an unedited starter config: nothing else can fix it).
    A stop (SIGTERM) or Ctrl-C ends the wait at once."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    most = longest_wait(env.get(MODE_VAR), code)
    if most is None:
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    watched = config if code == EXIT_USAGE else None
    if watched is not None:
        limit = "" if forever else f" (or {most:.0f} s)"
        print(
            f"viggle-watch: waiting for {watched} to change{limit} before exiting: "
            "a restart now would meet the same error",
            file=sys.stderr,
            flush=True,
        )
    before = fingerprint(watched) if watched is not None else None
    deadline = None if forever and watched is not None else clock() + most
    try:
        while deadline is None or clock() < deadline:
            if watched is not None and fingerprint(watched) != before:
                print(f"viggle-watch: {watched} changed: exiting to start again", file=sys.stderr)
                return
            left = POLL_S if deadline is None else max(0.0, deadline - clock())
            sleep(min(POLL_S, left))
    except KeyboardInterrupt:
        return
