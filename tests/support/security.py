"""What the security drill's tests share (``tests/integration/test_security*.py``): an emulator
that accepts nothing but the tests' key (``only_key``: a render proves the key reached the API),
one render stepped through, and the exception a call raised."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.stepping import Stepper
from tests.support.workspace import KEY, Workspace
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State


@pytest.fixture
def only_key() -> Iterator[RunningEmulator]:
    """An emulator that accepts nothing but KEY: a render proves the key reached the API."""
    with serve(EmulatorConfig(latency_s=0.2, keys=frozenset({KEY}))) as running:
        yield running


def render_one(st: Stepper, workspace: Workspace, name: str = "alice.png") -> None:
    """Drop one character in the watch folder and step the service until it is rendered."""
    make_character_png(workspace.watch / name, seed=len(name))
    assert st.ingest() == 1
    st.run_until(lambda: st.service.store.counts()[State.DONE] >= 1, seconds=0.3)


def caught(call: Callable[[], object]) -> BaseException:
    """The exception ``call()`` raised (the test fails if it raised none)."""
    try:
        call()
    except Exception as exc:
        return exc
    pytest.fail(f"{call} raised nothing")
