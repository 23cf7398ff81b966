"""Deliverables wait for room (issue 16): before a ProRes file is made, the output folder must
have space for about what it will take; with too little the job waits in `downloading` (as for
a full disk: nothing lost, nothing published, no part file left) and finishes once there is
room. A real small filesystem (a tmpfs) for a real free-space figure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.drills.tmpfs import free_bytes, mount_tmpfs, tmpfs_unavailable, unmount
from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.render.deliver import HEADROOM, Footage, expected_bytes
from viggle_watch.store.states import State


def test_the_expected_sizes_scale_with_the_picture_and_the_length() -> None:
    hd = Footage(seconds=10.0, width=1280, height=720, frames=250)
    assert expected_bytes("prores4444", hd) == 60_000_000  # about 6 MB a second at 720p
    quarter = Footage(seconds=10.0, width=640, height=360, frames=250)
    assert expected_bytes("prores4444", quarter) == 15_000_000
    assert expected_bytes("png_sequence", hd) == 250 * 1280 * 720 * 2
    assert expected_bytes("webm_alpha", hd) < expected_bytes("prores4444", hd)


def error_of(st: Stepper) -> str | None:
    job = st.service.store.get(1)
    return job.error_message if job is not None else None


@pytest.fixture
def small_output(workspace: Workspace) -> Iterator[Path]:
    why = tmpfs_unavailable()
    if why is not None:
        pytest.skip(f"needs a tmpfs mount for a real free-space figure: {why}")
    mount_tmpfs(workspace.output, 1024 * 1024)
    try:
        yield workspace.output
    finally:
        unmount(workspace.output)


def test_a_deliverable_waits_for_room_then_is_made(
    stepper_for: Any, workspace: Workspace, small_output: Path
) -> None:
    # the ProRes of a 2 s 64x64 render is expected to take ~53 kB (x HEADROOM asked for);
    # leave room for the render's download but not for that
    needed = HEADROOM * expected_bytes("prores4444", Footage(2.0, 64, 64, 16))
    ballast = small_output / ".ballast"
    ballast.write_bytes(b"\0" * (free_bytes(small_output) - int(needed * 0.6)))
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[dance_rule(deliver=["mp4", "prores4444"])])
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: "disk full" in (error_of(st) or ""))
        job = st.service.store.get(1)
        assert job is not None and job.state == State.DOWNLOADING
        assert "prores4444" in (job.error_message or "")
        assert sorted(p.name for p in small_output.iterdir() if p != ballast) == [
            p.name for p in small_output.glob("hero__dance.mp4.*.part")
        ]  # only the held download: nothing published
        ballast.unlink()
        st.run_until(lambda: st.state() == State.DONE, seconds=60.0)
    doc = json.loads((small_output / "hero__dance.json").read_text())
    assert [d["kind"] for d in doc["deliverables"]] == ["prores4444"]
    assert (small_output / "hero__dance.mov").stat().st_size > 0
    assert not list(small_output.glob("*.part"))
