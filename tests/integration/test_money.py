"""docs/reliability.md §2 row by row, budgets and preprocessed mode: the ticks stepped by hand
with a fake clock, against the emulator over loopback (its faults switched on per test)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.clock import day_of
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import State

DAY_S = 86_400.0


def drop_images(workspace: Workspace, count: int) -> None:
    for i in range(count):
        make_character_png(workspace.watch / f"c{i:02d}.png", seed=i)


def last_detail(stepper: Stepper, job_id: int = 1) -> str:
    return stepper.service.store.events(job_id)[-1].detail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_connection_refused_goes_back_to_the_queue(stepper_for: Any, workspace: Workspace) -> None:
    """Nothing listening: the POST was never sent, so the job is queued again with a delay."""
    st: Stepper = stepper_for(f"http://127.0.0.1:{free_port()}")
    drop_images(workspace, 1)
    assert st.ingest() == 1
    st.step()
    job = st.service.store.get(1)
    assert job is not None and job.state == State.QUEUED
    assert job.next_attempt_at > st.clock.time()
    assert last_detail(st).startswith("not sent: could not connect")
    assert st.service.store.spent_on(day_of(st.clock.time())) == 0


@pytest.mark.parametrize(
    ("faults", "state", "why"),
    [
        (Faults(rate_429=1.0, retry_after_s=120), State.QUEUED, "not sent"),
        (Faults(rate_5xx=1.0), State.UNCERTAIN, "outcome unknown"),
        (Faults(rate_drop_after_read=1.0), State.UNCERTAIN, "outcome unknown"),
    ],
    ids=["429", "5xx", "dropped-after-read"],
)
def test_each_submission_fault_lands_where_reliability_says(
    stepper_for: Any, workspace: Workspace, faults: Faults, state: State, why: str
) -> None:
    """429 is not acted on (queued, Retry-After honoured); 5xx and a lost answer are uncertain."""
    with serve(EmulatorConfig(latency_s=0.2, faults=faults)) as emu:
        st: Stepper = stepper_for(emu.url)
        drop_images(workspace, 1)
        st.ingest()
        st.step()
        assert st.state() == state
        assert why in last_detail(st)
        job = st.service.store.get(1)
        assert job is not None
        if state == State.QUEUED:
            assert job.next_attempt_at >= st.clock.time() + 120
        # uncertain never leaves by itself, however long the service runs
        for _ in range(5):
            st.step(600)
        assert st.state() == state if state == State.UNCERTAIN else True
        submissions = emu.emulator.stats()["render_submissions"]
        assert len(submissions) == (1 if faults.rate_drop_after_read else 0)


def test_a_bad_file_is_refused_before_any_api_call(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """A file that does not decode costs nothing: failed/ with NAME.error.json, no API call."""
    st: Stepper = stepper_for(emulator.url)
    (workspace.watch / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    st.ingest()
    st.step()
    assert st.service.store.latest() == []
    error = json.loads((workspace.watch / "failed" / "broken.png.error.json").read_text())
    assert (error["code"], error["rule"], error["file"]) == ("not_an_image", "dance", "broken.png")
    assert emulator.emulator.stats()["calls"] == {}


def test_a_400_from_the_api_fails_the_job_with_its_code(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A render the API refuses (a V3 template asked for V4): failed with the API's code and
    message, never retried, the input filed in failed/."""
    trio = {"template": "880e8400-e29b-41d4-a716-446655440001"}
    rule = dance_rule(mode="preprocessed", model="V4_Preview", scenes=[trio])
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[rule])
        drop_images(workspace, 1)
        st.ingest()
        st.run_until(lambda: st.state() == State.FAILED, seconds=0.5)
        job = st.service.store.get(1)
        assert job is not None and job.error_code == "CS-UORC01-002"
        for _ in range(3):
            st.step(600)
        assert emu.emulator.stats()["calls"]["POST /api/render"] == 1
    assert (workspace.watch / "failed" / "c00.png").exists()
    # why, beside it, as for an input refused before any spending (issue 14 §17)
    why = json.loads((workspace.watch / "failed" / "c00.png.error.json").read_text())
    assert (why["file"], why["rule"], why["code"]) == ("c00.png", "dance", "CS-UORC01-002")
    assert why["reason"] == job.error_message
    assert why["detail"]["jobs"] == [
        {"job": 1, "state": "failed", "code": "CS-UORC01-002", "reason": job.error_message}
    ]


def test_a_refused_key_holds_every_submission_until_it_passes_a_check(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A 401 on a render: that job goes back to the queue (not failed, its credits back),
    nothing more is sent while the flag stands; once a key check passes, all jobs render."""
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url, max_concurrent_renders=1)
        drop_images(workspace, 3)
        st.ingest()
        st.step()  # the first job is submitted while the key is good, and renders
        st.run_until(lambda: st.state(1) == State.DONE)
        emu.emulator.set_faults(Faults(refuse_keys=True))  # then the key is revoked
        for _ in range(3):
            st.step()
        held = (
            sorted(str(j.state) for j in st.service.store.latest()),
            st.service.gatekeeper.holding() is not None,
            emu.emulator.stats()["calls"].get("POST /api/render"),
            st.service.store.spent_on(day_of(st.clock.time())),
        )
        emu.emulator.set_faults(Faults())
        verdict = st.service.gatekeeper.check_key(st.clock.time())
        st.run_until(lambda: all(j.state == State.DONE for j in st.service.store.latest()))
    assert held[1:] == (True, 2, 1.0)  # one render paid for, the refused one refunded
    assert "failed" not in held[0]
    assert (verdict, st.service.gatekeeper.holding()) == ("accepted", None)


def test_a_key_refused_at_the_first_check_sends_no_render(
    stepper_for: Any, workspace: Workspace
) -> None:
    """The free balance call shows the key refused before anything is sent or paid: the
    jobs wait in preparing."""
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(refuse_keys=True))) as emu:
        st: Stepper = stepper_for(emu.url)
        drop_images(workspace, 2)
        st.ingest()
        st.step()
        st.step()
        calls = emu.emulator.stats()["calls"]
    assert (calls.get("POST /api/render"), st.service.gatekeeper.holding() is not None) == (
        None,
        True,
    )
    assert [str(j.state) for j in st.service.store.latest()] == ["preparing", "preparing"]


def test_insufficient_credits_waits_for_budget(stepper_for: Any, workspace: Workspace) -> None:
    """402 (or a balance that cannot cover the job): waiting_budget, nothing spent."""
    with serve(EmulatorConfig(latency_s=0.2, balance=0)) as emu:
        st: Stepper = stepper_for(emu.url)
        drop_images(workspace, 1)
        st.ingest()
        st.step()
        assert st.state() == State.WAITING_BUDGET
        assert emu.emulator.stats()["calls"].get("POST /api/render", 0) == 0


def test_daily_cap_stops_at_the_right_job_and_resumes_the_next_day(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """A cap of 3 credits lets three 1-second renders go, holds the rest, then a new UTC day
    lets the next three go."""
    st: Stepper = stepper_for(emulator.url, budget={"daily_credits": 3}, max_concurrent_renders=10)
    st.clock.advance(DAY_S - (st.clock.time() % DAY_S) + 3600)  # 01:00 UTC
    drop_images(workspace, 5)
    assert st.ingest() == 5
    st.run_until(lambda: st.service.store.counts()[State.DONE] == 3, seconds=0.2)
    counts = st.service.store.counts()
    assert (counts[State.DONE], counts[State.WAITING_BUDGET]) == (3, 2)
    waiting = st.service.store.latest(state=State.WAITING_BUDGET)
    assert all("daily cap" in (j.error_message or "") for j in waiting)
    st.step(3600)  # later the same day: still held
    assert st.service.store.counts()[State.WAITING_BUDGET] == 2
    st.clock.advance(DAY_S)  # the next day
    st.run_until(lambda: st.service.store.counts()[State.DONE] == 5)
    assert len(emulator.emulator.stats()["render_submissions"]) == 5


def test_preprocessed_mode_makes_each_asset_once(stepper_for: Any, workspace: Workspace) -> None:
    """20 images x 3 scenes in preprocessed mode: 20 characters and 3 scenes, 60 renders."""
    scenes = []
    for i in range(3):
        video = workspace.root / "assets" / f"scene{i}.mp4"
        make_driving_mp4(video, seconds=1.0, seed=i)
        scenes.append({"video": str(video)})
    with serve(EmulatorConfig(latency_s=0.1, asset_delay_s=0.0)) as emu:
        rule = dance_rule(mode="preprocessed", scenes=scenes)
        st: Stepper = stepper_for(emu.url, rules=[rule], max_concurrent_renders=50, rate_limit=500)
        drop_images(workspace, 20)
        assert st.ingest() == 60
        st.run_until(lambda: st.service.store.counts()[State.DONE] == 60)
        stats = emu.emulator.stats()
    assert (len(stats["character_creations"]), len(stats["scene_creations"])) == (20, 3)
    subs = stats["render_submissions"]
    assert len(subs) == 60
    assert all(s["character_id"] and s["scene_id"] for s in subs)
    assert len({(s["character_id"], s["scene_id"]) for s in subs}) == 60
    assert len(list(Path(workspace.output).glob("*.json"))) == 60


def test_fast_mode_that_stays_unavailable_fails_the_job_after_three_tries(
    stepper_for: Any, workspace: Workspace
) -> None:
    """400 CS-UORC01-001 is not acted on: retried later, then failed with the reason (never
    stuck in the queue, never charged)."""
    rule = dance_rule(fast=True)
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(fast_unavailable=True))) as emu:
        st: Stepper = stepper_for(emu.url, rules=[rule])
        drop_images(workspace, 1)
        st.ingest()
        for _ in range(6):
            st.step(300)
        job = st.service.store.get(1)
        assert job is not None and job.state == State.FAILED
        assert (job.error_code, job.attempts) == ("CS-UORC01-001", 3)
        assert emu.emulator.stats()["calls"]["POST /api/render"] == 3
        assert st.service.store.spent_on(day_of(st.clock.time())) == 0
