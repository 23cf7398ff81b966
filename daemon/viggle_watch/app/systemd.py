"""sd_notify without libsystemd: tell systemd we are ready, alive, what we do, or stopping.

The protocol is one datagram of ``KEY=value`` lines sent to the AF_UNIX socket named by
``$NOTIFY_SOCKET``: a filesystem path, or an abstract socket when it starts with ``@``. Without
``$NOTIFY_SOCKET`` (not started by systemd, or not ``Type=notify``) every call is a no-op.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

import structlog

__all__ = [
    "STATUS_INTERVAL_S",
    "STATUS_ORDER",
    "Notifier",
    "heartbeat_interval_s",
    "send_datagram",
    "status_line",
    "watchdog_interval_s",
]

log = structlog.get_logger()

Send = Callable[[str, bytes], None]  # (the NOTIFY_SOCKET value, the datagram)
StateName = TypeVar("StateName", bound=str)  # str, or the store's State (a StrEnum)

# Busy states in the status line; uncertain first: it is the one that needs a person.
STATUS_ORDER: Final = (
    "uncertain",
    "submitting",
    "rendering",
    "downloading",
    "preparing",
    "queued",
    "waiting_budget",
)
STATUS_INTERVAL_S: Final = 5.0  # how fresh `systemctl status` is, when the watchdog asks less


def send_datagram(address: str, payload: bytes) -> None:
    """Send ``payload`` to the notify socket at ``address`` (a path, or ``@name``)."""
    target = "\0" + address[1:] if address.startswith("@") else address
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.sendto(payload, target)


def _monotonic_usec() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class Notifier:
    """Sends state changes to systemd; never raises (a failure is logged once, then ignored)."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        send: Send = send_datagram,
        monotonic_usec: Callable[[], int] = _monotonic_usec,
    ) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        # sd_notify accepts absolute paths and abstract names only; anything else is not for us
        self._address = address if address[:1] in ("/", "@") else ""
        self._send = send
        self._monotonic_usec = monotonic_usec
        self._warned = False

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` (``KEY=value`` each) in one datagram; whether it was sent."""
        if not self._address:
            return False
        try:
            self._send(self._address, "\n".join(fields).encode("utf-8"))
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning(
                    "systemd_notify_failed",
                    socket=self._address,
                    reason=exc.strerror or str(exc),
                    hint="later notifications that fail are not logged",
                )
            return False
        return True

    def ready(self, status: str | None = None) -> None:
        """Startup (or a reload) is complete."""
        self.notify("READY=1", *_status_field(status))

    def status(self, text: str) -> None:
        """The one line `systemctl status` shows under the unit."""
        self.notify(*_status_field(text))

    def watchdog(self, status: str | None = None) -> None:
        """Still alive: systemd restarts the service if this stops for ``WatchdogSec=``."""
        self.notify("WATCHDOG=1", *_status_field(status))

    def stopping(self, status: str | None = None) -> None:
        """Shutdown has begun (a drain may follow)."""
        self.notify("STOPPING=1", *_status_field(status))

    def heartbeat(
        self,
        health: Callable[[], tuple[bool, str]],
        counts: Callable[[], Mapping[StateName, int]],
    ) -> None:
        """WATCHDOG=1 and the status line while ``health()`` is ok; else only say why in STATUS.

        Run it from the scheduler's own threads: a stuck scheduler or a store that does not
        answer stops the pings, and systemd restarts the service after ``WatchdogSec=``.
        """
        if not self._address:
            return
        ok, reason = health()
        if ok:
            self.watchdog(status_line(counts()))
        else:
            self.status(f"unhealthy: {reason}")

    def reloading(self) -> None:
        """A reload has begun; call ``ready()`` when it is over, whatever its outcome.

        ``MONOTONIC_USEC`` is what ``Type=notify-reload`` (systemd >= 253) matches the reload by.
        """
        self.notify("RELOADING=1", f"MONOTONIC_USEC={self._monotonic_usec()}")


def _status_field(text: str | None) -> tuple[str, ...]:
    """``STATUS=text`` on one line (a newline would start a new field), or nothing."""
    if text is None:
        return ()
    return ("STATUS=" + " ".join(text.splitlines()),)


def watchdog_interval_s(environ: Mapping[str, str], *, pid: int | None = None) -> float | None:
    """How often to ping: half of ``WatchdogSec=``; ``None`` when there is no watchdog for us."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner is not None and owner != str(os.getpid() if pid is None else pid):
        return None  # set for another process (we inherited it): the watchdog is not ours
    return usec / 1_000_000 / 2


def heartbeat_interval_s(environ: Mapping[str, str], *, pid: int | None = None) -> float:
    """How often the service sends WATCHDOG and STATUS: the watchdog's need, at most 5 s."""
    half = watchdog_interval_s(environ, pid=pid)
    return STATUS_INTERVAL_S if half is None else min(half, STATUS_INTERVAL_S)


def status_line(counts: Mapping[StateName, int]) -> str:
    """Pure: ``1 uncertain, 3 rendering, 12 queued`` (busy states only), or ``idle``."""
    by_name = {str(state): n for state, n in counts.items()}
    parts = [f"{by_name[s]} {s}" for s in STATUS_ORDER if by_name.get(s, 0) > 0]
    return ", ".join(parts) or "idle"
