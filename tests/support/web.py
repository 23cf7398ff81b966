"""The service with its web listener (issue 18), for the API's and the dashboard's tests: the
real service (``stepper_for``) with ``web:`` on a free 127.0.0.1 port, its uvicorn listener
started, and stopped after the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Protocol

import pytest

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.synth import make_character_png

TOKEN: Final = "web-t0ken-for-tests"


class Serve(Protocol):
    def __call__(self, *, token: bool = False, files: int = 0) -> tuple[str, Stepper]: ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Listeners:
    """Services with `web:` on a free 127.0.0.1 port each (``stepper_for``), listening until
    the test ends."""

    def __init__(self, stepper_for: Any, tmp_path: Path) -> None:
        self._stepper_for, self._tmp = stepper_for, tmp_path
        self.started: list[Stepper] = []

    def start(
        self,
        base_url: str,
        *,
        token: bool = False,
        web: dict[str, Any] | None = None,
        **config: Any,
    ) -> tuple[str, Stepper]:
        """The service of ``make_config(base_url, **config)`` with ``web`` options (and, with
        ``token``, a token file holding ``TOKEN``), its listener started: its URL and stepper."""
        port = free_port()
        settings: dict[str, Any] = {**(web or {}), "listen": f"127.0.0.1:{port}"}
        if token:
            token_file = self._tmp / "web.token"
            token_file.write_text(TOKEN + "\n")
            token_file.chmod(0o600)
            settings["token_file"] = str(token_file)
        st: Stepper = self._stepper_for(base_url, web=settings, **config)
        assert st.service.web is not None
        st.service.web.start()
        self.started.append(st)
        return f"http://127.0.0.1:{port}", st

    def stop(self) -> None:
        for st in self.started:
            assert st.service.web is not None
            st.service.web.stop()


@pytest.fixture
def listeners(stepper_for: Any, tmp_path: Path) -> Iterator[Listeners]:
    made = Listeners(stepper_for, tmp_path)
    yield made
    made.stop()


@pytest.fixture
def api(listeners: Listeners, workspace: Workspace) -> Serve:
    """A factory: the service with `web:` (and, with ``token=True``, a token file holding
    ``TOKEN``) and ``files`` characters dropped and taken in, its listener started; the base URL
    and the stepper. The Viggle API is not needed to read: it is not there."""

    def factory(*, token: bool = False, files: int = 0) -> tuple[str, Stepper]:
        base, st = listeners.start("http://127.0.0.1:9", token=token)
        for i in range(files):
            make_character_png(workspace.watch / f"hero{i}.png", seed=i)
        if files:
            st.ingest()
        return base, st

    return factory


class Board(Protocol):
    def __call__(self, *, token: bool = True) -> tuple[str, Stepper]: ...


@pytest.fixture
def board(listeners: Listeners, emulator: RunningEmulator) -> Board:
    """The dashboard's tests: the service with `web:` (and the token, unless ``token=False``)
    against the emulator, its listener started."""

    def factory(*, token: bool = True) -> tuple[str, Stepper]:
        return listeners.start(emulator.url, token=token)

    return factory
