"""``metrics.listen``, deprecated (issue 18), keeps serving: `run` says so once at start, as a
warning line, and `check-config` says it too."""

from __future__ import annotations

import io

import pytest
import requests
from rich.console import Console
from structlog.testing import capture_logs

from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.cli.config import print_check
from viggle_watch.emulator.server import RunningEmulator

SAID = "metrics.listen is deprecated: /metrics and /healthz are served on web.listen; "


def test_a_service_with_metrics_listen_serves_it_and_says_once_it_is_deprecated(
    emulator: RunningEmulator, make_config: MakeConfig
) -> None:
    """One `setting_deprecated` warning at start; /metrics and /healthz answer as before."""
    config = make_config(emulator.url, metrics={"listen": "127.0.0.1:0"})
    service = build_service(config, ApiKey(KEY), tick_interval_s=0.2)
    with capture_logs() as logs:
        service.start()
    try:
        assert service.metrics_server is not None
        url = service.metrics_server.url
        wait_for(lambda: requests.get(f"{url}/healthz", timeout=5).status_code == 200)
        assert "viggle_watch_jobs" in requests.get(f"{url}/metrics", timeout=5).text
    finally:
        service.stop()
    said = [e for e in logs if e["event"] == "setting_deprecated"]
    assert [(e["log_level"], e["setting"], e["hint"][: len(SAID)]) for e in said] == [
        ("warning", "metrics.listen", SAID)
    ]


def test_check_config_says_metrics_listen_is_deprecated(
    emulator: RunningEmulator, make_config: MakeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check-config` prints the same words, as a warning; the config is still OK (exit 0)."""
    monkeypatch.setenv("VIGGLE_API_KEY", KEY)
    config = make_config(emulator.url, metrics={"listen": "127.0.0.1:9108"})
    out = io.StringIO()
    code = print_check(config, Console(file=out, width=300, soft_wrap=True))
    lines = [line for line in out.getvalue().splitlines() if "deprecated" in line]
    assert (code, lines) == (
        0,
        [
            f'  warning: {SAID}move the address there (web: {{listen: "127.0.0.1:9108"}},'
            " the web extra); metrics.listen keeps working until then"
        ],
    )
