"""Downloads and the render options end to end: masks, resumes, expired URLs, timeouts and
multi-person templates, with the service's ticks stepped by hand against the emulator."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import requests

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.clock import day_of
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.probe import video_duration_s
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.atomic import download_tag, host_tag, part_path
from viggle_watch.store.states import State

DUO = "770e8400-e29b-41d4-a716-446655440000"
DUO_SEGMENTS = ("person_a1b2c3d4", "person_e5f6a7b8")


def served_sha256(emu: RunningEmulator, viggle_job_id: str, key: str = "cdn_url") -> str:
    status = requests.get(f"{emu.url}/api/render/{viggle_job_id}", timeout=10).json()
    return hashlib.sha256(requests.get(status[key], timeout=10).content).hexdigest()


def one_job(st: Stepper, workspace: Workspace) -> None:
    make_character_png(workspace.watch / "alice.png", seed=3)
    assert st.ingest() == 1


def until_state(st: Stepper, state: State) -> None:
    st.run_until(lambda: st.state() == state, seconds=0.2)


def test_transparent_mode_downloads_the_mask_too(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """background_mode transparent: NAME.mask.mp4 beside the video, both in the sidecar."""
    st: Stepper = stepper_for(emulator.url, rules=[dance_rule(background_mode="transparent")])
    one_job(st, workspace)
    until_state(st, State.DONE)
    job = st.service.store.get(1)
    assert job is not None and job.output_path and job.viggle_job_id
    video = Path(job.output_path)
    mask = workspace.output / "alice__dance.mask.mp4"
    sidecar = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["mask"] == {
        "path": str(mask),
        "file": mask.name,
        "size": mask.stat().st_size,
        "sha256": served_sha256(emulator, job.viggle_job_id, "mask_cdn_url"),
    }
    assert sidecar["options"]["background_mode"] == "transparent"
    assert video_duration_s(mask) > 0.5
    submission = emulator.emulator.stats()["render_submissions"][0]
    assert submission["background_mode"] == "transparent"


def test_a_broken_download_resumes_where_it_stopped(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """Cut off half-way, the .part stays; the next try asks for the rest (206) and the
    finished file has the emulator's exact bytes — rendered and paid once."""
    st: Stepper = stepper_for(emulator.url)
    emulator.emulator.set_faults(Faults(rate_truncate_download=1.0))
    one_job(st, workspace)
    # named after its job and this host: no other writer shares it (issue 14 §6)
    part = part_path(workspace.output / "alice__dance.mp4", download_tag(1, st.service.store.host))
    assert part.name == f"alice__dance.mp4.1-{host_tag(st.service.store.host)}.part"
    st.run_until(part.exists, seconds=0.2)
    assert st.state() == State.DOWNLOADING
    half = part.stat().st_size
    assert half > 0
    emulator.emulator.set_faults(Faults())
    st.run_until(lambda: st.state() == State.DONE, seconds=60)
    job = st.service.store.get(1)
    assert job is not None and job.output_path and job.viggle_job_id
    video = Path(job.output_path)
    assert hashlib.sha256(video.read_bytes()).hexdigest() == served_sha256(
        emulator, job.viggle_job_id
    )
    assert video.stat().st_size > half
    assert not part.exists()
    assert len(emulator.emulator.stats()["render_submissions"]) == 1


def test_a_server_that_ignores_range_restarts_the_file(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """When the CDN answers 200 to a Range request, the partial file is dropped, not appended."""
    st: Stepper = stepper_for(emulator.url)
    emulator.emulator.set_faults(Faults(rate_truncate_download=1.0))
    one_job(st, workspace)
    part = part_path(workspace.output / "alice__dance.mp4", download_tag(1, st.service.store.host))
    st.run_until(part.exists, seconds=0.2)
    emulator.emulator.set_faults(Faults(ignore_range=True))
    st.run_until(lambda: st.state() == State.DONE, seconds=60)
    job = st.service.store.get(1)
    assert job is not None and job.output_path and job.viggle_job_id
    assert hashlib.sha256(Path(job.output_path).read_bytes()).hexdigest() == served_sha256(
        emulator, job.viggle_job_id
    )


def test_an_expired_url_is_refreshed_never_rendered_again(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A 403 from the CDN: a fresh URL from the job's status, one render, a verified file."""
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(cdn_expiry_s=0.3))) as emu:
        st: Stepper = stepper_for(emu.url)
        one_job(st, workspace)
        service, now = st.service, st.clock.time
        service.preparer.tick(now())
        service.submitter.tick(now())
        time.sleep(0.3)  # the render completes at the emulator (on its own real clock)
        st.clock.advance(1)
        service.poller.tick(now())  # sees it complete and takes its signed URL
        assert st.state() == State.DOWNLOADING
        time.sleep(1.4)  # ... which expires (whole seconds, rounded up) before the download
        service.downloader.tick(now())  # refreshes the URL from the job's status and uses it
        assert st.state() == State.DONE
        stats = emu.emulator.stats()
    assert stats["faults_injected"].get("cdn_expiry", 0) >= 1
    assert len(stats["render_submissions"]) == 1


def test_render_timeout_cancels_at_viggle_and_refunds(
    stepper_for: Any, workspace: Workspace
) -> None:
    """No result after render_timeout: DELETE at Viggle, failed with the reason, no spend left."""
    with serve(EmulatorConfig(latency_s=3600)) as emu:
        st: Stepper = stepper_for(emu.url, render_timeout="10s")
        one_job(st, workspace)
        until_state(st, State.RENDERING)
        assert st.service.store.spent_on(day_of(st.clock.time())) == 1
        st.step(11)
        st.step(1)
        job = st.service.store.get(1)
        assert job is not None and job.state == State.FAILED
        assert job.error_code == "render_timeout"
        assert emu.emulator.stats()["calls"].get("DELETE /api/render") == 1
        assert st.service.store.spent_on(day_of(st.clock.time())) == 0


def test_multi_person_template_maps_the_dropped_image_and_the_cast(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A duo template: the dropped image plays one person, a fixed image the other."""
    bob = workspace.root / "assets" / "bob.png"
    make_character_png(bob, seed=42)
    scene = {"template": DUO, "segment": DUO_SEGMENTS[0], "cast": {DUO_SEGMENTS[1]: str(bob)}}
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[dance_rule(mode="preprocessed", scenes=[scene])])
        one_job(st, workspace)
        until_state(st, State.DONE)
        stats = emu.emulator.stats()
    submission = stats["render_submissions"][0]
    assert submission["input"] == "multi"
    assert sorted(submission["character_mapping"] or {}) == sorted(DUO_SEGMENTS)
    assert len(stats["character_creations"]) == 2
    job = st.service.store.get(1)
    assert job is not None and job.output_path
    sidecar = json.loads(Path(job.output_path).with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["viggle"]["template"] == DUO
    assert list(sidecar["inputs"]["cast"]) == [DUO_SEGMENTS[1]]
    assert sidecar["inputs"]["scene"] is None
