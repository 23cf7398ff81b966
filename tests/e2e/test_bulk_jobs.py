"""`jobs cancel|retry --state S [--rule R] [--older-than D]`: many jobs at once, counted and
confirmed (a script without --yes is refused, not left waiting for an answer)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.stepping import Stepper
from tests.support.workspace import KEY, Workspace
from viggle_watch.cli.bulk import confirmed
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State


def jobs(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viggle_watch", "jobs", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "VIGGLE_API_KEY": KEY},
    )


def states(st: Stepper) -> list[str]:
    return sorted(str(j.state) for j in st.service.store.latest())


def test_cancel_and_retry_by_state(stepper_for: Any, workspace: Workspace) -> None:
    """Unconfirmed: refused; too young: none; confirmed: all three, then all back."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    for seed in range(3):
        make_character_png(workspace.watch / f"c{seed}.png", seed=seed)
    st.ingest()
    config = st.service.config.source
    unconfirmed = jobs(config, "cancel", "--state", "queued")
    too_young = jobs(config, "cancel", "--state", "queued", "--older-than", "1h", "--yes")
    both = jobs(config, "cancel", "1", "--state", "queued", "--yes")
    before = states(st)
    cancelled = jobs(config, "cancel", "--state", "queued", "--rule", "dance", "--yes")
    after_cancel = states(st)
    retried = jobs(config, "retry", "--state", "cancelled", "--yes")
    assert (unconfirmed.returncode, "Add --yes" in unconfirmed.stderr, before) == (
        2,
        True,
        ["queued"] * 3,
    )
    assert (too_young.stdout.strip(), both.returncode) == ("no job to cancel", 2)
    assert (cancelled.returncode, cancelled.stdout.splitlines()[0], after_cancel) == (
        0,
        "3 job(s) cancelled; 0 skipped",
        [str(State.CANCELLED)] * 3,
    )
    assert (retried.stdout.splitlines()[0], states(st)) == (
        "3 job(s) retried; 0 skipped",
        ["queued"] * 3,
    )


def test_end_of_input_at_the_prompt_means_no(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-D at `[y/N]` is a no, not a traceback."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)

    def eof(_prompt: str) -> str:
        raise EOFError

    assert confirmed("cancel 3 job(s)?", yes=False, ask=eof) is False
