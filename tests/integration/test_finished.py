"""Every way a job ends goes through the one job-ended handler (viggle_watch.outputs.finished):
one `job_finished` line, its input filed by the rule's policy, its hooks handed on."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from structlog.testing import capture_logs

from tests.support.cli import key_env, run_cli
from viggle_watch.config import Rule
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.notify.announce import Announcer
from viggle_watch.notify.hooks import HookRunner
from viggle_watch.notify.outbox import Outbox
from viggle_watch.outputs.finished import Finisher
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State

KEY = "vk-test-finished"


def finished_lines(logs: Sequence[Mapping[str, Any]]) -> list[tuple[int, str]]:
    return [(e["job_id"], e["result"]) for e in logs if e["event"] == "job_finished"]


def test_a_rendered_job_is_finished_once_and_its_input_filed(
    stepper_for: Any, workspace: Any
) -> None:
    """done: one job_finished line; the input moves to processed/."""
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st = stepper_for(emu.url)
        make_character_png(workspace.watch / "alice.png", seed=3)
        st.ingest()
        with capture_logs() as logs:
            st.run_until(lambda: st.state() == State.DONE)
            st.step()
    filed = sorted(p.name for p in (workspace.watch / "processed").iterdir())
    assert (finished_lines(logs), filed) == ([(1, "done")], ["alice.png"])


def test_a_job_cancelled_from_the_cli_is_finished_once(stepper_for: Any, workspace: Any) -> None:
    """`jobs cancel` finishes the job as the service would — the input filed as failed, with
    why beside it — and answers without narrating it (a person's command logs warnings only)."""
    st = stepper_for("http://127.0.0.1:9")  # never reached: the job is cancelled while queued
    make_character_png(workspace.watch / "bob.png", seed=4)
    st.ingest()
    config = st.service.config.source
    command = ["--log-format", "json", "jobs", "cancel", "1", "--config", str(config)]
    done = run_cli(*command, env=key_env(KEY))
    logs = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    filed = sorted(p.name for p in (workspace.watch / "failed").iterdir())
    why = json.loads((workspace.watch / "failed" / "bob.png.error.json").read_text())
    assert (done.returncode, done.stdout.strip(), finished_lines(logs), filed, st.state()) == (
        0,
        "job 1 is now cancelled",
        [],
        ["bob.png", "bob.png.error.json"],
        State.CANCELLED,
    )
    assert (why["code"], why["detail"]["jobs"][0]["state"]) == ("cancelled", "cancelled")


def test_hooks_get_the_final_job_and_its_current_rule(stepper_for: Any, workspace: Any) -> None:
    """The announcer reads the rules at each call (a reload replaces them whole): a job whose
    rule is gone runs no hook, and is filed by the default policy; the hook sees the job as
    it is now."""
    st = stepper_for("http://127.0.0.1:9")
    make_character_png(workspace.watch / "carol.png", seed=5)
    st.ingest()
    store = st.service.store
    rules: dict[str, Rule] = {}
    fired: list[tuple[State, str]] = []

    class Recording:
        def ended(self, job: Job, *, on_done: object, on_failed: object) -> None:
            fired.append((job.state, job.rule))

    announcer = Announcer(Outbox([]), cast(HookRunner, Recording()), lambda: rules, st.clock.time)
    store.on_moved(announcer.moved)
    finisher = Finisher(store, lambda: rules, clock=st.clock.time)
    stale = store.get(1)
    assert stale is not None
    store.transition(1, State.QUEUED, State.FAILED, at=st.clock.time(), detail="test")
    finisher.ended(stale)  # the rule was removed: no hook, filed as "processed" would
    rules.update({r.name: r for r in st.service.config.rules})
    other = _another_failed_job(st, workspace)
    finisher.ended(other)
    assert (fired, sorted(p.name for p in (workspace.watch / "failed").iterdir())) == (
        [(State.FAILED, st.service.config.rules[0].name)],
        ["carol.png", "carol.png.error.json", "dave.png", "dave.png.error.json"],
    )


def _another_failed_job(st: Any, workspace: Any) -> Job:
    make_character_png(workspace.watch / "dave.png", seed=6)
    st.ingest()
    job: Job | None = st.service.store.get(2)
    assert job is not None
    st.service.store.transition(2, State.QUEUED, State.FAILED, at=st.clock.time(), detail="t")
    return job
