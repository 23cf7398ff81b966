"""Manifests a hostile or careless user drops: a FIFO (a reader would wait for ever) and a
1 GB sparse file (a reader would fill the memory). The intake reads only regular files, at most
one byte past the cap, and refuses both with a reason; every other file is still taken."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.rules.manifest import MAX_MANIFEST_BYTES

JOBS = {"name": "jobs", "kind": "jobs", "watch": "in", "output": "out"}


def reason(workspace: Workspace, name: str) -> str:
    doc = json.loads((workspace.watch / "failed" / f"{name}.error.json").read_text())
    return f"{doc['code']}: {doc['reason']}"


def ingest_within(st: Stepper, seconds: float) -> bool:
    """The intake's ticks, on a thread of their own: True when they came back in time."""
    worker = threading.Thread(target=st.ingest, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive()


def test_a_fifo_manifest_is_refused_without_blocking_the_intake(
    stepper_for: Any, workspace: Workspace
) -> None:
    """`mkfifo pipe.job.yaml`, and a job folder whose job.yaml is a FIFO (with READY)."""
    st: Stepper = stepper_for("http://127.0.0.1:9", rules=[JOBS])
    pipe = workspace.watch / "pipe.job.yaml"
    os.mkfifo(pipe)
    st.service.tracker.touch(pipe, st.clock.time())  # the observer's event for it
    folder = workspace.watch / "shot-1"
    folder.mkdir()
    os.mkfifo(folder / "job.yaml")
    (folder / "READY").write_text("", encoding="utf-8")
    returned = ingest_within(st, 30)
    assert (returned, reason(workspace, "pipe.job.yaml"), reason(workspace, "shot-1")) == (
        True,
        "bad_manifest: the manifest is not a regular file (a link, a pipe or a device); "
        "only regular files are read",
        "bad_manifest: job.yaml is not a regular file (a link, a pipe or a device); "
        "only regular files are read",
    )


def test_a_huge_manifest_is_refused_without_being_read_whole(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A 1 GB (sparse) manifest: refused as larger than the cap."""
    st: Stepper = stepper_for("http://127.0.0.1:9", rules=[JOBS])
    with (workspace.watch / "huge.job.yaml").open("wb") as f:
        f.truncate(1 << 30)
    assert ingest_within(st, 30)
    assert reason(workspace, "huge.job.yaml") == (
        f"bad_manifest: the manifest is larger than {MAX_MANIFEST_BYTES} bytes"
    )


def test_healthz_fails_while_files_wait_on_a_stuck_settle_tick(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Files pending and no settle tick finished for over a minute: unhealthy, saying why."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    service = st.service
    service._settled_at = st.clock.time() - 61
    idle = service.health()
    service.tracker.touch(workspace.watch / "alice.png", st.clock.time())
    stuck = service.health()
    assert (idle[1].startswith("the settle tick"), stuck) == (
        False,
        (False, "the settle tick has not finished for 61 s"),
    )


def test_a_scene_id_that_is_not_one_path_segment_is_refused_before_any_spending(
    stepper_for: Any, workspace: Workspace
) -> None:
    """`scene_id: '../../admin/delete-everything?confirm=yes#'` would have sent an
    authenticated GET to that path after paying for the character: refused at intake with
    its NAME.error.json, and the API is never called."""
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[JOBS])
        make_character_png(workspace.watch / "hero.png")
        (workspace.watch / "shot.job.yaml").write_text(
            "character: hero.png\nmode: preprocessed\n"
            "scene_id: '../../admin/delete-everything?confirm=yes#'\n",
            encoding="utf-8",
        )
        st.ingest()
        for _ in range(3):
            st.step()
        calls = emu.emulator.stats()["calls"]
    said = reason(workspace, "shot.job.yaml")
    assert said.startswith("bad_manifest: ") and "is not a usable id" in said
    assert calls == {}
    assert sum(st.service.store.counts().values()) == 0
