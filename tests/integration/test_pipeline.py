"""The whole pipeline against the emulator over loopback: real files, SQLite, threads."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.logs import logs_into
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace, drop
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.service import Service
from viggle_watch.config import Config
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.probe import video_duration_s
from viggle_watch.store.states import State


def stats(emu: RunningEmulator) -> dict[str, object]:
    response = requests.get(f"{emu.url}/_sim/stats", timeout=5)
    body: dict[str, object] = response.json()
    return body


def submissions(emu: RunningEmulator) -> list[dict[str, object]]:
    subs = stats(emu)["render_submissions"]
    assert isinstance(subs, list)
    return subs


def start(config: Config) -> Service:
    service = build_service(config, ApiKey(KEY), tick_interval_s=0.1)
    service.start()
    return service


@pytest.fixture
def running(
    emulator: RunningEmulator, make_config: MakeConfig
) -> Iterator[tuple[Service, RunningEmulator]]:
    service = start(make_config(emulator.url))
    try:
        yield service, emulator
    finally:
        service.stop()


def job_state(service: Service, job_id: int = 1) -> State | None:
    job = service.store.get(job_id)
    return job.state if job else None


def test_slow_copy_is_submitted_once_after_the_last_write(
    running: tuple[Service, RunningEmulator], workspace: Workspace
) -> None:
    """An image written in chunks over longer than `settle` is rendered once, from all its bytes."""
    service, emu = running
    data = workspace.character()
    # 6 chunks, 0.25 s apart: 1.25 s of copying against a 0.5 s settle time
    last_write = drop(workspace.watch / "alice.png", data, chunks=6, pause_s=0.25)
    wait_for(lambda: job_state(service) == State.DONE, what="job 1 done")

    subs = submissions(emu)
    assert len(subs) == 1
    assert subs[0]["ref_image_sha256"] == hashlib.sha256(data).hexdigest()
    assert (
        subs[0]["driving_video_sha256"] == hashlib.sha256(workspace.scene.read_bytes()).hexdigest()
    )
    queued_at = service.store.events(1)[0].at
    assert queued_at >= last_write

    job = service.store.get(1)
    assert job is not None and job.output_path is not None
    video = Path(job.output_path)
    assert video == workspace.output / "alice__dance.mp4"
    # a real MP4 as long as the driving video
    assert abs(video_duration_s(video) - video_duration_s(workspace.scene)) < 0.25
    sidecar = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["schema_version"] == 1
    assert sidecar["job"] == {"id": 1, "rule": "dance", "state": "done"}
    assert sidecar["viggle"]["job_id"] == subs[0]["job_id"]
    assert sidecar["viggle"]["model"] == "V4_Preview"
    assert sidecar["inputs"]["character"] == {
        "path": str(workspace.watch / "alice.png"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    assert sidecar["inputs"]["scene"]["path"] == str(workspace.scene)
    assert sidecar["output"]["size"] == video.stat().st_size
    assert sidecar["output"]["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    assert list(sidecar["timestamps"]) == [
        "queued",
        "preparing",
        "submitting",
        "rendering",
        "downloading",
        "done",
    ]
    wait_for(lambda: (workspace.watch / "processed" / "alice.png").exists(), what="input moved")
    assert not (workspace.watch / "alice.png").exists()
    assert sorted(p.name for p in workspace.output.iterdir()) == [
        "alice__dance.json",
        "alice__dance.mp4",
    ]


def test_restart_resumes_polling_the_same_viggle_job(
    workspace: Workspace, make_config: MakeConfig
) -> None:
    """Stopped while rendering and started again, the service polls the job it already paid for."""
    with serve(EmulatorConfig(latency_s=3.0)) as emu:
        config = make_config(emu.url)
        first = start(config)
        try:
            drop(workspace.watch / "alice.png", workspace.character())
            wait_for(lambda: job_state(first) == State.RENDERING, what="rendering")
        finally:
            first.stop()
        viggle_id = submissions(emu)[0]["job_id"]

        second = start(config)
        try:
            job = second.store.get(1)
            assert job is not None and job.state == State.RENDERING
            assert job.viggle_job_id == viggle_id
            wait_for(lambda: job_state(second) == State.DONE, what="done after restart")
        finally:
            second.stop()
        assert [s["job_id"] for s in submissions(emu)] == [viggle_id]
        calls = stats(emu)["calls"]
        assert isinstance(calls, dict) and calls["POST /api/render"] == 1


def test_startup_scan_picks_up_files_and_ignores_dotfiles_and_parts(
    emulator: RunningEmulator, make_config: MakeConfig, workspace: Workspace
) -> None:
    """Files already present at start are rendered; dotfiles and *.part never are."""
    image = workspace.character()
    for name in ("alice.png", ".hidden.png", "bob.png.part", "._alice.png", "carol.png.tmp"):
        (workspace.watch / name).write_bytes(image)
    service = start(make_config(emulator.url))
    try:
        wait_for(lambda: job_state(service) == State.DONE, what="alice done")
        jobs = service.store.latest()
        assert [(j.id, Path(j.source_path).name) for j in jobs] == [(1, "alice.png")]
    finally:
        service.stop()
    assert len(submissions(emulator)) == 1
    left = sorted(p.name for p in workspace.watch.iterdir() if p.is_file())
    assert left == sorted([".hidden.png", "._alice.png", "bob.png.part", "carol.png.tmp"])


def test_same_content_dropped_twice_renders_once(
    running: tuple[Service, RunningEmulator], workspace: Workspace
) -> None:
    """A second drop of identical bytes under another name hits the dedup key: no new render."""
    service, emu = running
    data = workspace.character()
    drop(workspace.watch / "alice.png", data)
    wait_for(lambda: job_state(service) == State.DONE, what="first done")
    drop(workspace.watch / "alice-copy.png", data)
    copy_done = workspace.watch / "processed" / "alice-copy.png"
    wait_for(copy_done.exists, what="the duplicate moved to processed/")
    assert len(service.store.latest()) == 1
    assert len(submissions(emu)) == 1


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The service's logs as JSON lines in memory, debug included (the set-up put back after)."""
    with logs_into(io.StringIO(), logging.DEBUG) as buffer:
        yield buffer


def test_api_key_never_appears_in_logs(
    captured_logs: io.StringIO, workspace: Workspace, make_config: MakeConfig
) -> None:
    """A full render and an auth failure log plenty, but never the key or a signed URL."""
    with serve(EmulatorConfig(latency_s=0.5)) as emu:
        service = start(make_config(emu.url))
        try:
            drop(workspace.watch / "alice.png", workspace.character())
            wait_for(lambda: job_state(service) == State.DONE, what="done")
        finally:
            service.stop()
    with serve(EmulatorConfig(latency_s=0.5, keys=frozenset({"sk-some-other-key"}))) as emu:
        service = start(make_config(emu.url, state_dir="state2"))
        try:
            drop(workspace.watch / "bob.png", workspace.character(seed=2))
            wait_for(lambda: service.gatekeeper.holding() is not None, what="the key refused")
        finally:
            service.stop()
    text = captured_logs.getvalue()
    assert "render_submitted" in text and "submissions_paused" in text
    assert KEY not in text
    assert "Bearer" not in text
    assert "sig=" not in text
