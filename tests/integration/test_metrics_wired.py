"""Scratch: the wired service serves /metrics and /healthz while it runs."""

from __future__ import annotations

import requests

from tests.support.waits import wait_for
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.emulator.server import RunningEmulator


def test_service_serves_metrics_while_running(
    emulator: RunningEmulator, make_config: MakeConfig, workspace: Workspace
) -> None:
    """Started with metrics.listen: /healthz turns 200 once the scheduler ticks; stop closes it."""
    config = make_config(emulator.url, metrics={"listen": "127.0.0.1:0"})
    service = build_service(config, ApiKey("sk-test-0123456789abcdef"), tick_interval_s=0.2)
    service.start()
    try:
        assert service.metrics_server is not None
        url = service.metrics_server.url
        wait_for(lambda: requests.get(f"{url}/healthz", timeout=5).status_code == 200)
        text = requests.get(f"{url}/metrics", timeout=5).text
        assert 'viggle_watch_jobs{state="queued"} 0.0' in text
        assert f'viggle_watch_watch_root_up{{path="{workspace.watch}"}} 1.0' in text
    finally:
        service.stop()
