"""The bytes sent are the bytes checked (issue 14 §3, §4, §8): an input swapped for a link,
removed, or replaced by other bytes of the same size after the intake checked it is never
uploaded — in preprocessed mode (the character upload) as in on-demand mode (the render's) —
and the job says why instead of hanging, with its credit given back. Stepped ticks against the
emulator over loopback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.clock import day_of
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import State

PREPROCESSED = dance_rule(mode="preprocessed")


def queued(st: Stepper, workspace: Workspace) -> Path:
    image = make_character_png(workspace.watch / "hero.png")
    assert st.ingest() == 1
    return image


def failed_with(st: Stepper, emu: RunningEmulator) -> tuple[str | None, str, float]:
    st.run_until(lambda: st.state() == State.FAILED)
    job = st.service.store.get(1)
    assert job is not None
    spent = st.service.store.spent_on(day_of(st.clock.time()))
    return job.error_code, job.error_message or "", spent


def posts(emu: RunningEmulator) -> dict[str, int]:
    calls = emu.emulator.stats()["calls"]
    return {k: v for k, v in calls.items() if k.startswith("POST")}


def test_preprocessed_a_character_swapped_for_a_link_is_not_uploaded(
    stepper_for: Any, workspace: Workspace, tmp_path: Path
) -> None:
    elsewhere = make_character_png(tmp_path / "elsewhere.png", seed=9)
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[PREPROCESSED])
        image = queued(st, workspace)
        image.unlink()
        image.symlink_to(elsewhere)
        code, why, spent = failed_with(st, emu)
        sent = posts(emu)
    assert (code, spent) == ("input_changed", 0)
    assert "replaced by a link" in why
    assert "POST /api/characters/preprocess" not in sent


def test_preprocessed_an_input_removed_after_queueing_fails_with_why(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Not `preparing` for ever with a credit held (a FileNotFoundError the preparer did
    not expect), and never `uncertain`: nothing was sent."""
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[PREPROCESSED])
        (workspace.watch / "notes.txt").write_text("x")  # the folder is there: not unmounted
        image = queued(st, workspace)
        image.unlink()
        code, why, spent = failed_with(st, emu)
        sent = posts(emu)
    assert (code, spent) == ("input_missing", 0)
    assert "input file is gone" in why
    assert "POST /api/characters/preprocess" not in sent


def test_on_demand_a_video_replaced_by_one_of_the_same_size_is_not_uploaded(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A 1 s driving video swapped (after the check) for a longer one padded to the same byte
    size: charged by its real length had it gone up. It does not go up."""
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url)
        queued(st, workspace)
        size = workspace.scene.stat().st_size
        longer = make_driving_mp4(workspace.root / "longer.mp4", seconds=3.0)
        data = longer.read_bytes()
        if len(data) > size:  # keep the size: cut the longer one (the bytes differ, as a swap)
            data = data[:size]
        workspace.scene.write_bytes(data + b"\0" * (size - len(data)))
        before = workspace.scene.stat()
        os.utime(workspace.scene, ns=(before.st_atime_ns, before.st_mtime_ns))
        code, why, spent = failed_with(st, emu)
        sent = posts(emu)
    assert (code, spent, sent.get("POST /api/render")) == ("input_changed", 0, None)
    assert "changed after it was checked" in why
