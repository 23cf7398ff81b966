"""The service under a drill: a subprocess (for kill -9) or in this process, its logs tapped."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests.support.drills.workspace import KEY
from tests.support.logs import logs_into
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.service import Service
from viggle_watch.clock import Clock
from viggle_watch.config import load_config


def start_service(
    config: Path, log: Path | None = None, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``python -m viggle_watch run`` as a subprocess, the key in its environment (``env``, or this
    process's), its output appended to ``log`` (or dropped)."""
    args = [
        sys.executable,
        "-m",
        "viggle_watch",
        "--log-format",
        "json",
        "run",
        "--config",
        str(config),
    ]
    environ = {**(os.environ if env is None else env), "VIGGLE_API_KEY": KEY}
    if log is None:
        return subprocess.Popen(
            args, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    with log.open("ab") as out:
        return subprocess.Popen(args, env=environ, stdout=out, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def in_process(
    config: Path, *, tick_s: float = 0.05, clock: Clock | None = None
) -> Iterator[Service]:
    """The service built from ``config`` (on ``clock``) and started in this process; stopped
    on exit."""
    service = build_service(load_config(config), ApiKey(KEY), tick_interval_s=tick_s, clock=clock)
    service.start()
    try:
        yield service
    finally:
        service.stop()


class LogTap(io.StringIO):
    """A log stream that keeps the JSON events (the service's own account of what it did)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def write(self, s: str) -> int:
        for line in s.splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    with self._lock:
                        self._events.append(event)
        return len(s)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._events if name is None or e.get("event") == name]


@contextlib.contextmanager
def tapped_logs(level: int = logging.WARNING) -> Iterator[LogTap]:
    """Route the service's logs (JSON) into a :class:`LogTap`; put the old logging back after."""
    with logs_into(LogTap(), level) as tap:
        yield tap
