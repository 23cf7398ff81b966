"""Time limits and a render's time (issue 14 §5, §11): a render that finished while the service
was down is fetched, never thrown away; `render_timeout` counts only the time the service
watched the render (not downtime, not a wall clock that jumped forward); a clock that jumped
back delays no poll. The service's ticks are stepped with a fake clock against the emulator."""

from __future__ import annotations

import time
from typing import Any

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State

HOUR_S = 3600.0


def rendering(st: Stepper, workspace: Workspace) -> None:
    make_character_png(workspace.watch / "hero.png")
    st.ingest()
    st.run_until(lambda: st.state() == State.RENDERING)


def polls(emu: RunningEmulator) -> int:
    return emu.emulator.stats()["calls"].get("GET /api/render", 0)


def test_a_render_that_finished_while_the_service_was_down_is_fetched(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Down for two hours (render_timeout 10 min): the first poll after finds it complete,
    and the paid video is downloaded — not cancelled, refunded locally and lost."""
    with serve(EmulatorConfig(latency_s=0.3)) as emu:
        st: Stepper = stepper_for(emu.url, render_timeout="10m")
        rendering(st, workspace)
        st.clock.advance(2 * HOUR_S)  # no tick runs: the service is down
        time.sleep(0.6)  # meanwhile Viggle finishes the render
        st.run_until(lambda: st.state() == State.DONE)
        calls = emu.emulator.stats()["calls"]
    assert calls.get("DELETE /api/render") is None
    assert (workspace.output / "hero__dance.mp4").is_file()


def test_time_the_service_did_not_watch_does_not_count_against_render_timeout(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A render still going after the service was down (or the clock jumped) two hours is
    polled, not timed out; the timeout comes after 5 minutes of watching, not before."""
    with serve(EmulatorConfig(latency_s=10 * HOUR_S)) as emu:
        st: Stepper = stepper_for(emu.url, render_timeout="5m")
        rendering(st, workspace)
        st.clock.advance(2 * HOUR_S)
        for _ in range(40):  # 200 s of watching, plus the jump's one counted interval
            st.step(5)
        assert st.state() == State.RENDERING
        for _ in range(30):  # 150 s more: past 300 s of watching
            st.step(5)
        job = st.service.store.get(1)
        assert job is not None and job.state == State.FAILED
        assert job.error_code == "render_timeout"
        assert "still rendering after" in (job.error_message or "")
        assert emu.emulator.stats()["calls"].get("DELETE /api/render") == 1


def test_a_clock_that_went_back_delays_no_poll(stepper_for: Any, workspace: Workspace) -> None:
    """An hour back after a poll: the next poll comes one poll interval later, not an hour."""
    with serve(EmulatorConfig(latency_s=10 * HOUR_S)) as emu:
        st: Stepper = stepper_for(emu.url, render_timeout="5h")
        rendering(st, workspace)
        st.step(1)
        before = polls(emu)
        st.clock.advance(-HOUR_S)
        st.step(0.1)  # the schedule is rebased to the clock as it is now
        st.step(1)  # one poll interval (200 ms) later: due
        assert polls(emu) > before
        assert st.state() == State.RENDERING
