"""The service under a systemd-like supervisor: sd_notify over a datagram socket the test owns."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.drills.service import start_service
from tests.support.waits import wait_for
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.emulator.server import EmulatorConfig, serve


class Supervisor:
    """Collects every notification datagram the service sends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def saw(self, text: str) -> bool:
        return any(text in m for m in list(self.messages))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    sup = Supervisor(tmp_path / "notify.sock")
    yield sup
    sup.close()


def test_ready_watchdog_status_and_a_clean_sigterm_mid_render(
    supervisor: Supervisor, make_config: MakeConfig, workspace: Workspace
) -> None:
    """READY after start, WATCHDOG pings, STATUS shows the render; SIGTERM while rendering
    exits 0 with STOPPING; a restart finishes the same Viggle job, submitted once."""
    with serve(EmulatorConfig(latency_s=4.0)) as emu:
        config = make_config(emu.url)
        env = {**os.environ, "NOTIFY_SOCKET": str(supervisor.path), "WATCHDOG_USEC": "2000000"}
        env.pop("WATCHDOG_PID", None)
        proc = start_service(config.source, env=env)
        try:
            wait_for(lambda: supervisor.saw("READY=1"), what="READY")
            (workspace.watch / "alice.png").write_bytes(workspace.character())
            wait_for(lambda: supervisor.saw("1 rendering"), what="STATUS with the render")
            wait_for(
                lambda: sum("WATCHDOG=1" in m for m in supervisor.messages) >= 2,
                what="watchdog pings",
            )
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert supervisor.saw("STOPPING=1")
        again = start_service(config.source, env=env)
        try:
            wait_for(lambda: (workspace.output / "alice__dance.json").exists(), what="done")
            again.send_signal(signal.SIGTERM)
            assert again.wait(timeout=60) == 0
        finally:
            if again.poll() is None:
                again.kill()
        stats = requests.get(f"{emu.url}/_sim/stats", timeout=5).json()
    assert stats["calls"]["POST /api/render"] == 1
