"""`status` names where the dashboard answers; a listener on every address (a container's
0.0.0.0) is said to be opened by the machine's name or IP, not by 0.0.0.0 (issue 20)."""

from __future__ import annotations

import io

from rich.console import Console

from tests.support.workspace import MakeConfig
from viggle_watch.app.report import gather
from viggle_watch.cli.status import status_view


def shown(make_config: MakeConfig, listen: str) -> str:
    web = {"listen": listen, "token_file": "web-token"}
    out = io.StringIO()
    Console(file=out, width=200).print(
        status_view(gather(make_config("http://127.0.0.1:9", web=web)))
    )
    return next(line for line in out.getvalue().splitlines() if line.startswith("dashboard:"))


def test_a_wildcard_listener_is_opened_by_name(make_config: MakeConfig) -> None:
    assert shown(make_config, "0.0.0.0:8080") == (
        "dashboard: http://0.0.0.0:8080/ (every address: open it by this machine's name or IP)"
    )
    assert shown(make_config, "127.0.0.1:8378") == "dashboard: http://127.0.0.1:8378/"
