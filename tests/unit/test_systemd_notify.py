"""Tests for viggle_watch.app.systemd: sd_notify datagrams on a real socket, intervals, status."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from viggle_watch.app.systemd import (
    Notifier,
    heartbeat_interval_s,
    status_line,
    watchdog_interval_s,
)
from viggle_watch.store.states import State

PID = 4242


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound AF_UNIX datagram socket in tmp_path, and the NOTIFY_SOCKET value naming it."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(2.0)  # the datagram is queued before send returns: this never waits
        yield sock, str(path)


def received(sock: socket.socket, count: int) -> list[str]:
    return [sock.recv(4096).decode("utf-8") for _ in range(count)]


def test_each_call_sends_its_datagram(listener: tuple[socket.socket, str]) -> None:
    """READY, STATUS, WATCHDOG and STOPPING arrive at a filesystem socket, one datagram each."""
    sock, address = listener
    notifier = Notifier({"NOTIFY_SOCKET": address})
    notifier.ready()
    notifier.status("3 rendering, 12 queued")
    notifier.watchdog()
    notifier.stopping()
    assert (notifier.enabled, received(sock, 4)) == (
        True,
        ["READY=1", "STATUS=3 rendering, 12 queued", "WATCHDOG=1", "STOPPING=1"],
    )


def test_a_status_rides_along_in_the_same_datagram(listener: tuple[socket.socket, str]) -> None:
    """ready/watchdog/stopping with a status send both fields at once; newlines are flattened."""
    sock, address = listener
    notifier = Notifier({"NOTIFY_SOCKET": address})
    notifier.ready("idle")
    notifier.watchdog("1 uncertain")
    notifier.stopping("draining:\n1 submitting")
    assert received(sock, 3) == [
        "READY=1\nSTATUS=idle",
        "WATCHDOG=1\nSTATUS=1 uncertain",
        "STOPPING=1\nSTATUS=draining: 1 submitting",
    ]


def test_reloading_sends_the_monotonic_time(listener: tuple[socket.socket, str]) -> None:
    """RELOADING=1 carries MONOTONIC_USEC (Type=notify-reload); READY=1 ends the reload."""
    sock, address = listener
    notifier = Notifier({"NOTIFY_SOCKET": address}, monotonic_usec=lambda: 123_456_789)
    notifier.reloading()
    notifier.ready()
    assert received(sock, 2) == ["RELOADING=1\nMONOTONIC_USEC=123456789", "READY=1"]


def test_the_default_clock_is_monotonic_microseconds(listener: tuple[socket.socket, str]) -> None:
    """Without the seam, MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds (a positive int)."""
    sock, address = listener
    Notifier({"NOTIFY_SOCKET": address}).reloading()
    first, second = received(sock, 1)[0].split("\n")
    key, _, value = second.partition("=")
    assert (first, key, value.isdigit() and int(value) > 0) == (
        "RELOADING=1",
        "MONOTONIC_USEC",
        True,
    )


def test_an_abstract_socket_is_reached() -> None:
    """A NOTIFY_SOCKET starting with @ names an abstract socket (no file on disk)."""
    name = f"viggle-watch-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert received(sock, 1) == ["READY=1"]


@pytest.mark.parametrize("value", [None, "", "relative/notify.sock", "vsock:2:1234"])
def test_without_a_usable_notify_socket_every_call_is_a_no_op(value: str | None) -> None:
    """No NOTIFY_SOCKET (or one that is neither a path nor @abstract): nothing is sent."""
    sent: list[tuple[str, bytes]] = []
    environ = {} if value is None else {"NOTIFY_SOCKET": value}
    notifier = Notifier(environ, send=lambda address, data: sent.append((address, data)))
    notifier.ready("idle")
    notifier.status("idle")
    notifier.watchdog()
    notifier.reloading()
    notifier.stopping()
    assert (notifier.enabled, notifier.notify("READY=1"), sent) == (False, False, [])


def test_the_send_seam_gets_the_address_and_the_bytes() -> None:
    """The datagram is the fields joined by newlines, UTF-8, sent to the NOTIFY_SOCKET value."""
    sent: list[tuple[str, bytes]] = []
    notifier = Notifier(
        {"NOTIFY_SOCKET": "@sd"}, send=lambda address, data: sent.append((address, data))
    )
    assert notifier.notify("STATUS=rendu à 50 %", "WATCHDOG=1") is True
    assert sent == [("@sd", "STATUS=rendu à 50 %\nWATCHDOG=1".encode())]


def test_a_failing_socket_warns_once_and_never_raises(tmp_path: Path) -> None:
    """An OSError (socket gone) is logged once as systemd_notify_failed; later ones are quiet."""
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    with capture_logs() as logs:
        results = [notifier.notify("WATCHDOG=1"), notifier.notify("WATCHDOG=1")]
        notifier.ready()
    assert (results, [(e["event"], e["log_level"]) for e in logs]) == (
        [False, False],
        [("systemd_notify_failed", "warning")],
    )


class TestHeartbeat:
    def test_a_healthy_service_pings_with_its_status(self) -> None:
        """Healthy: one datagram, WATCHDOG=1 and the status line of the store's counts."""
        sent: list[bytes] = []
        notifier = Notifier({"NOTIFY_SOCKET": "@sd"}, send=lambda _, data: sent.append(data))
        notifier.heartbeat(lambda: (True, "ok"), lambda: {State.QUEUED: 2, State.RENDERING: 1})
        assert sent == [b"WATCHDOG=1\nSTATUS=1 rendering, 2 queued"]

    def test_an_unhealthy_service_does_not_ping(self) -> None:
        """Unhealthy: no WATCHDOG=1 (systemd will restart it), and STATUS says why."""
        sent: list[bytes] = []
        notifier = Notifier({"NOTIFY_SOCKET": "@sd"}, send=lambda _, data: sent.append(data))
        notifier.heartbeat(lambda: (False, "the job store does not answer: locked"), dict)
        assert sent == [b"STATUS=unhealthy: the job store does not answer: locked"]

    def test_disabled_it_asks_nothing(self) -> None:
        """Without NOTIFY_SOCKET neither the health check nor the store is called."""
        asked: list[str] = []

        def health() -> tuple[bool, str]:
            asked.append("health")
            return True, "ok"

        def counts() -> dict[str, int]:
            asked.append("counts")
            return {}

        Notifier({}).heartbeat(health, counts)
        assert asked == []


class TestWatchdogInterval:
    @pytest.mark.parametrize(
        ("environ", "expected"),
        [
            ({}, None),
            ({"WATCHDOG_USEC": "60000000"}, 30.0),
            ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(PID)}, 30.0),
            ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),
            ({"WATCHDOG_USEC": "0"}, None),
            ({"WATCHDOG_USEC": "-5"}, None),
            ({"WATCHDOG_USEC": "sixty"}, None),
        ],
    )
    def test_half_of_watchdog_usec_for_our_pid(
        self, environ: dict[str, str], expected: float | None
    ) -> None:
        """Ping at half of WatchdogSec=; none when unset, invalid, or meant for another pid."""
        assert watchdog_interval_s(environ, pid=PID) == expected

    def test_the_pid_defaults_to_ours(self) -> None:
        """Without pid=, WATCHDOG_PID is compared with os.getpid()."""
        environ = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}
        assert watchdog_interval_s(environ) == 2.0

    @pytest.mark.parametrize(
        ("environ", "expected"),
        [({}, 5.0), ({"WATCHDOG_USEC": "60000000"}, 5.0), ({"WATCHDOG_USEC": "2000000"}, 1.0)],
    )
    def test_the_heartbeat_is_at_most_five_seconds(
        self, environ: dict[str, str], expected: float
    ) -> None:
        """STATUS stays fresh every 5 s; a short watchdog makes the heartbeat faster still."""
        assert heartbeat_interval_s(environ, pid=PID) == expected


class TestStatusLine:
    def test_busy_states_in_order_uncertain_first(self) -> None:
        """Uncertain (needs a person) leads; then the pipeline from submitting back to queued."""
        counts = {
            "queued": 12,
            "rendering": 3,
            "uncertain": 1,
            "waiting_budget": 2,
            "preparing": 4,
            "downloading": 5,
            "submitting": 6,
        }
        assert status_line(counts) == (
            "1 uncertain, 6 submitting, 3 rendering, 5 downloading, 4 preparing, 12 queued, "
            "2 waiting_budget"
        )

    def test_zero_and_finished_states_are_left_out(self) -> None:
        """States with 0 jobs, and done/failed/cancelled, are not part of the line."""
        counts = {"rendering": 3, "queued": 0, "done": 40, "failed": 2, "cancelled": 1}
        assert status_line(counts) == "3 rendering"

    @pytest.mark.parametrize("counts", [{}, {"queued": 0}, {"done": 7}])
    def test_nothing_to_do_reads_idle(self, counts: dict[str, int]) -> None:
        """No job in a busy state: `idle`."""
        assert status_line(counts) == "idle"

    def test_the_store_counts_are_accepted_as_they_come(self) -> None:
        """JobStore.counts() (State keys, every state present) gives the same line."""
        counts = dict.fromkeys(State, 0) | {State.RENDERING: 3, State.UNCERTAIN: 1}
        assert status_line(counts) == "1 uncertain, 3 rendering"
