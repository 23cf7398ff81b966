"""The ``viggle-watch`` command line run as a subprocess, as a person (or systemd) runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

CLI = [sys.executable, "-m", "viggle_watch"]


def key_env(key: str) -> dict[str, str]:
    """This process's environment with ``VIGGLE_API_KEY`` set to ``key``."""
    return {**os.environ, "VIGGLE_API_KEY": key}


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m viggle_watch ARGS`` to its end (60 s at most), its output captured as text;
    ``env`` replaces the environment when given. The exit code is the caller's to check."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def stop(proc: subprocess.Popen[Any], timeout_s: float) -> None:
    """Ask ``proc`` to stop (SIGTERM); kill it if it has not ended within ``timeout_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
