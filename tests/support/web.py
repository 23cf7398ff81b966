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
from viggle_watch.media.synth import make_character_png

TOKEN: Final = "web-t0ken-for-tests"


class Serve(Protocol):
    def __call__(self, *, token: bool = False, files: int = 0) -> tuple[str, Stepper]: ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api(stepper_for: Any, workspace: Workspace, tmp_path: Path) -> Iterator[Serve]:
    """A factory: the service with `web:` (and, with ``token=True``, a token file holding
    ``TOKEN``) and ``files`` characters dropped and taken in, its listener started; the base URL
    and the stepper."""
    started: list[Stepper] = []

    def factory(*, token: bool = False, files: int = 0) -> tuple[str, Stepper]:
        port = free_port()
        web: dict[str, Any] = {"listen": f"127.0.0.1:{port}"}
        if token:
            (tmp_path / "web.token").write_text(TOKEN + "\n")
            web["token_file"] = str(tmp_path / "web.token")
        st: Stepper = stepper_for("http://127.0.0.1:9", web=web)
        for i in range(files):
            make_character_png(workspace.watch / f"hero{i}.png", seed=i)
        if files:
            st.ingest()
        assert st.service.web is not None
        st.service.web.start()
        started.append(st)
        return f"http://127.0.0.1:{port}", st

    yield factory
    for st in started:
        assert st.service.web is not None
        st.service.web.stop()
