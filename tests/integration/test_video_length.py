"""The credit estimate does not trust the length in an MP4's header (issue 14 §9): a 3 s video
whose mvhd/tkhd/mdhd claim 0.3 s is measured from its packets too (read, not decoded) and
estimated from the larger; the job's history says the two disagree; max_credits_per_job holds."""

from __future__ import annotations

from typing import Any

from tests.support.files import understate_duration
from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.intake.checks import VideoFacts, check_video
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import State


def lying_scene(workspace: Workspace) -> None:
    make_driving_mp4(workspace.scene, seconds=3.0)
    understate_duration(workspace.scene, 10)


def test_a_header_that_understates_the_length_is_not_believed(workspace: Workspace) -> None:
    lying_scene(workspace)
    facts = check_video(workspace.scene, role="driving")
    assert isinstance(facts, VideoFacts)
    assert (round(facts.duration_s, 2), round(facts.stated_s or 0, 2)) == (3.0, 0.3)
    assert facts.length_note() == (
        "the video's header says 0.30 s but its frames run 3.00 s; estimated from 3.00 s"
    )


def test_the_job_is_estimated_from_the_frames_and_says_why(
    stepper_for: Any, workspace: Workspace
) -> None:
    lying_scene(workspace)
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url, budget={"max_credits_per_job": 2})
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.FAILED)
        sent = emu.emulator.stats()["render_submissions"]
    job = st.service.store.get(1)
    assert job is not None
    first = st.service.store.events(1)[0].detail
    assert (job.error_code, sent) == ("over_budget", [])
    assert "estimated 3 credits is over max_credits_per_job 2" in (job.error_message or "")
    assert "the video's header says 0.30 s but its frames run 3.00 s" in first
