"""`viggle-watch jobs …` and `status` as a person uses them on an uncertain, a done and a
rendering job (the service's ticks stepped in-process; the CLI in subprocesses)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.cli import key_env, run_cli
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, Workspace
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.documents import JobDetail
from viggle_watch.store.states import State


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--config", str(config), env=key_env(KEY))


def test_an_uncertain_job_is_shown_and_resolved_by_a_person(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A lost answer → uncertain; status says what to do; retry needs --force; resolve with
    the Viggle job id makes it finish without a second submission."""
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(rate_drop_after_read=1.0))) as emu:
        st: Stepper = stepper_for(emu.url)
        config = st.service.config.source
        make_character_png(workspace.watch / "alice.png", seed=5)
        st.ingest()
        st.step()
        assert st.state() == State.UNCERTAIN
        status = cli(config, "status")
        assert status.returncode == 0
        assert "job 1 is uncertain" in status.stdout and "jobs resolve 1" in status.stdout
        listed = json.loads(cli(config, "jobs", "list", "--state", "uncertain", "--json").stdout)
        assert [j["id"] for j in listed] == [1]
        refused = cli(config, "jobs", "retry", "1")
        assert refused.returncode == 2 and "--force" in refused.stderr
        assert "Traceback" not in refused.stderr
        viggle_id = emu.emulator.stats()["render_submissions"][0]["job_id"]
        resolved = cli(config, "jobs", "resolve", "1", "--viggle-job", str(viggle_id))
        assert resolved.returncode == 0, resolved.stderr
        assert "now rendering" in resolved.stdout
        emu.emulator.set_faults(Faults())
        st.run_until(lambda: st.state() == State.DONE, seconds=0.2)
        shown = json.loads(cli(config, "jobs", "show", "1", "--json").stdout)
        JobDetail.model_validate(shown)  # the published schema of `jobs show --json`
        for listed in json.loads(cli(config, "jobs", "list", "--json").stdout):
            JobDetail.model_validate(listed)
        assert [e["to"] for e in shown["history"]][-4:] == [
            "uncertain",
            "rendering",
            "downloading",
            "done",
        ]
        assert "resolved by a person" in shown["history"][-3]["detail"]
        text = " ".join(cli(config, "jobs", "show", "1").stdout.split())
        assert "options background_mode=default, bg_color=default, fast=no" in text
        assert "{" not in text  # words for a person, not a Python dict
        assert len(emu.emulator.stats()["render_submissions"]) == 1


def test_retry_renders_a_done_job_again_and_cancel_stops_one_at_viggle(
    stepper_for: Any, workspace: Workspace
) -> None:
    """`jobs retry` re-renders deliberately (a second output); `jobs cancel` on a rendering job
    sends DELETE to Viggle and gives its credits back."""
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url)
        config = st.service.config.source
        make_character_png(workspace.watch / "alice.png", seed=6)
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE, seconds=0.2)
        retried = cli(config, "jobs", "retry", "1")
        assert retried.returncode == 0, retried.stderr
        st.run_until(lambda: st.state() == State.DONE, seconds=0.2)
        outputs = sorted(p.name for p in workspace.output.glob("*.mp4"))
        assert outputs == ["alice__dance-2.mp4", "alice__dance.mp4"]
        assert len(emu.emulator.stats()["render_submissions"]) == 2
        assert (workspace.watch / "processed" / "alice.png").exists()
    with serve(EmulatorConfig(latency_s=3600)) as emu:
        st2: Stepper = stepper_for(emu.url, state_dir="state2")
        config = st2.service.config.source
        make_character_png(workspace.watch / "bob.png", seed=7)
        st2.ingest()
        st2.step()
        bob = st2.service.store.latest()[0]
        assert bob.state == State.RENDERING
        cancelled = cli(config, "jobs", "cancel", str(bob.id))
        assert cancelled.returncode == 0, cancelled.stderr
        # the answer, not a narration of the service's log lines before it
        assert (cancelled.stdout.strip(), cancelled.stderr) == (
            f"job {bob.id} is now cancelled",
            "",
        )
        assert emu.emulator.stats()["calls"].get("DELETE /api/render") == 1
        job = st2.service.store.get(bob.id)
        assert job is not None and job.state == State.CANCELLED
        again = cli(config, "jobs", "cancel", str(bob.id))
        assert again.returncode == 2 and "already cancelled" in again.stderr


def test_a_render_held_for_review_is_shown_and_accepted_by_a_person(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A black render → review; `status` says where it is and what to do, `status --json`
    counts it; `jobs accept` (a subprocess, as a person runs it) publishes it as done."""
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(broken_output="black"))) as emu:
        st: Stepper = stepper_for(emu.url)
        config = st.service.config.source
        make_character_png(workspace.watch / "alice.png", seed=5)
        st.ingest()
        st.run_until(lambda: st.state() == State.REVIEW, seconds=0.2)
        status = cli(config, "status")
        assert status.returncode == 0, status.stderr
        assert "job 1 needs a look" in status.stdout and "every frame is black" in status.stdout
        assert "jobs accept 1" in status.stdout and "_review/" in status.stdout
        counted = json.loads(cli(config, "status", "--json").stdout)
        assert counted["counts"]["review"] == 1 and [j["id"] for j in counted["review"]] == [1]
        refused = cli(config, "jobs", "accept", "2")
        assert refused.returncode == 2 and "there is no job 2" in refused.stderr
        accepted = cli(config, "jobs", "accept", "1")
        assert accepted.returncode == 0, accepted.stderr
        assert "job 1 accepted" in accepted.stdout
        wrong = cli(config, "jobs", "accept", "--state", "done", "--yes")
        assert wrong.returncode == 2 and "--state review" in wrong.stderr
        st.run_until(lambda: st.state() == State.DONE, seconds=0.2)
        assert (workspace.output / "alice__dance.mp4").is_file()
        assert len(emu.emulator.stats()["render_submissions"]) == 1
