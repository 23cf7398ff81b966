"""Setting the web listener up (issue 18): what `check-config` says of `web:` (its address,
its token, a weak token, a token file that is not there, the web extra missing) and what `run`
says when the port is taken — in words, never a traceback."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console

from tests.support.web import free_port
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.cli.config import print_check
from viggle_watch.config import Config
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.errors import NotReadyError
from viggle_watch.web.token import INSTALL, missing_parts


def check(config: Config) -> tuple[int, str]:
    out = io.StringIO()
    code = print_check(config, Console(file=out, width=300, soft_wrap=True))
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGGLE_API_KEY", KEY)


def test_check_config_gives_the_dashboards_address_and_the_token_file(
    emulator: RunningEmulator, make_config: MakeConfig, tmp_path: Path
) -> None:
    token = tmp_path / "web.token"
    token.write_text("f" * 64 + "\n")
    token.chmod(0o600)
    web = {"listen": "127.0.0.1:8378", "token_file": str(token)}
    code, said = check(make_config(emulator.url, web=web))
    assert code == 0, said
    assert "  web: the dashboard and API at http://127.0.0.1:8378/" in said
    assert f"    token: read from {token}" in said and "f" * 64 not in said
    assert "warning" not in said
    code, said = check(make_config(emulator.url, web={"listen": "127.0.0.1:8378"}))
    assert code == 0 and "no web.token_file: read-only" in said


def test_a_weak_token_is_warned_of(
    emulator: RunningEmulator, make_config: MakeConfig, tmp_path: Path
) -> None:
    token = tmp_path / "web.token"
    token.write_text("abc123\n")
    token.chmod(0o644)
    code, said = check(
        make_config(emulator.url, web={"listen": "127.0.0.1:1", "token_file": str(token)})
    )
    assert code == 0
    assert "holds a token of 6 characters: make one of at least 16" in said
    assert "can be read by other users (mode 0644): chmod 600 it" in said
    assert "abc123" not in said


def test_a_token_file_that_is_not_there_is_an_error_before_run(
    emulator: RunningEmulator, make_config: MakeConfig, tmp_path: Path
) -> None:
    gone = tmp_path / "nope.token"
    code, said = check(
        make_config(emulator.url, web={"listen": "127.0.0.1:1", "token_file": str(gone)})
    )
    assert code == 2 and f"error: web.token_file {gone}: No such file or directory" in said


def test_the_web_extra_missing_is_said_with_the_command_to_install_it() -> None:
    gone = {"fastapi", "python_multipart"}
    said = missing_parts(lambda name: None if name in gone else object())
    assert said == f"web: is configured but fastapi, python_multipart is not installed: {INSTALL}"
    assert missing_parts() is None  # here, with the test extra, everything is


def test_a_port_taken_is_a_passing_problem_in_words(
    emulator: RunningEmulator, make_config: MakeConfig
) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        config = make_config(emulator.url, web={"listen": f"127.0.0.1:{port}"})
        service = build_service(config, ApiKey(KEY))
        try:
            assert service.web is not None
            with pytest.raises(NotReadyError) as taken:
                service.web.start()
            assert f"web: cannot listen on 127.0.0.1:{port}: Address already in use" in str(
                taken.value
            )
            assert taken.value.transient  # the CLI exits 75: try again
        finally:
            service.db.close()
