"""A full state directory is a pause, not a verdict on inputs (issue 14 §7, §18): a valid image
dropped while the job store cannot write stays in the watch folder (never filed as failed), is
queued by the next rescan once space is freed, and a `run` started on a full state directory
exits 75 with a sentence, not a traceback. A real tmpfs that fills up (root only)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import key_env
from tests.support.drills.tmpfs import fill, mount_tmpfs, tmpfs_unavailable, unmount
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, Workspace
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State

WHY_NOT = tmpfs_unavailable()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"no small filesystem: {WHY_NOT}")


@pytest.fixture
def small_state(workspace: Workspace) -> Iterator[Path]:
    state = workspace.root / "state"
    mount_tmpfs(state, 4 * 1024 * 1024)
    yield state
    unmount(state)


def test_an_input_dropped_while_the_store_is_full_waits_and_is_queued_after(
    stepper_for: Any, workspace: Workspace, small_state: Path
) -> None:
    st: Stepper = stepper_for("http://127.0.0.1:9")
    ballast = small_state / "ballast"
    fill(ballast)
    image = make_character_png(workspace.watch / "hero.png")
    st.ingest()
    assert image.exists()  # not filed, not failed: the store's trouble, not the image's
    assert not (workspace.watch / "failed").exists()
    ballast.unlink()
    st.service.intake.rescan(st.clock.time())  # the periodic rescan finds it again
    st.ingest()
    assert st.state() == State.QUEUED


def test_run_on_a_full_state_directory_exits_75_without_a_traceback(
    stepper_for: Any, workspace: Workspace, small_state: Path
) -> None:
    st: Stepper = stepper_for("http://127.0.0.1:9")
    config = st.service.config.source
    st.service.db.close()
    for name in ("state.db-wal", "state.db-shm"):
        (small_state / name).unlink(missing_ok=True)
    fill(small_state / "ballast")
    done = subprocess.run(
        [sys.executable, "-m", "viggle_watch", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=key_env(KEY),
        check=False,
    )
    assert (done.returncode, "Traceback" in done.stderr) == (75, False), done.stderr[-1500:]
    assert "viggle-watch: error:" in done.stderr
