"""The acceptance gate (issue 16): a render that is truncated, black, frozen, the wrong length,
or whose mask keys nothing, never reaches the output folder proper. It waits in
``OUTPUT/_review/`` with a sidecar naming the failed checks, the job in ``review``; the rule's
``on_failed`` runs; nothing is rendered again on its own. ``jobs accept`` publishes it as done,
``jobs retry`` renders it again (paid, on purpose). The real service against the emulator."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.documents import Sidecar
from viggle_watch.render import actions
from viggle_watch.store.states import State

TRANSPARENT = {"background_mode": "transparent"}


def published(out: Path) -> list[str]:
    """What an editor importing from the output folder sees (the review folder aside)."""
    return sorted(p.name for p in out.iterdir() if p.name != "_review")


@pytest.fixture
def closing() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def held_for_review(
    stepper_for: Any, workspace: Workspace, closing: ExitStack, broken: str, **rule: Any
) -> tuple[Stepper, RunningEmulator, dict[str, Any]]:
    """The service renders hero.png with the emulator serving ``broken`` outputs, until the
    job is held for review (or done); the review sidecar, if any."""
    emu = closing.enter_context(
        serve(EmulatorConfig(latency_s=0.2, faults=Faults(broken_output=broken)))
    )
    st: Stepper = stepper_for(emu.url, rules=[dance_rule(**rule)])
    make_character_png(workspace.watch / "hero.png")
    st.ingest()
    st.run_until(lambda: st.state() in (State.REVIEW, State.DONE))
    review = workspace.output / "_review"
    doc = json.loads((review / "hero__dance.json").read_text()) if review.is_dir() else {}
    return st, emu, doc


@pytest.mark.parametrize(
    ("broken", "check", "rule"),
    [
        ("truncated", "decodes", {}),
        ("black", "black", {}),
        ("frozen", "frozen", {}),
        ("short", "duration", {}),
        ("empty_mask", "mask", TRANSPARENT),
        ("full_mask", "mask", TRANSPARENT),
    ],
)
def test_a_broken_render_waits_for_review_and_never_reaches_the_output_folder(
    stepper_for: Any,
    workspace: Workspace,
    closing: ExitStack,
    broken: str,
    check: str,
    rule: dict[str, Any],
) -> None:
    st, emu, doc = held_for_review(
        stepper_for, workspace, closing, broken, deliver=["mp4", "poster"], **rule
    )
    assert st.state() == State.REVIEW
    assert published(workspace.output) == []  # no video, sidecar, poster or part file
    Sidecar.model_validate(doc)
    assert doc["job"]["state"] == "review"
    assert check in [f["check"] for f in doc["review"]["failed"]]
    assert "jobs accept 1" in doc["review"]["what_to_do"]
    assert (workspace.output / "_review" / "hero__dance.mp4").is_file()
    st.step(5.0)  # time passes: nothing is rendered (or paid) again on its own
    assert st.state() == State.REVIEW
    assert len(emu.emulator.stats()["render_submissions"]) == 1
    job = st.service.store.get(1)
    assert job is not None and job.error_message and "needs a look" in job.error_message
    videos = emu.emulator.stats()["faults_injected"].get(f"broken_output:{broken}", 0)
    if broken == "truncated":  # not a video at all: downloaded three times, then kept
        assert videos == 3


def test_a_good_render_passes_the_gate(
    stepper_for: Any, workspace: Workspace, closing: ExitStack
) -> None:
    st, _, doc = held_for_review(stepper_for, workspace, closing, "none", **TRANSPARENT)
    assert st.state() == State.DONE and doc == {}
    assert published(workspace.output) == [
        "hero__dance.json",
        "hero__dance.mask.mp4",
        "hero__dance.mp4",
    ]


def test_accept_publishes_the_reviewed_render_as_done_without_rendering_again(
    stepper_for: Any, workspace: Workspace, closing: ExitStack
) -> None:
    st, emu, doc = held_for_review(stepper_for, workspace, closing, "black")
    submitted = st.service.store.get(1)
    assert submitted is not None and submitted.state == State.REVIEW
    actions.accept(st.service.store, 1, now=st.clock.time())
    st.run_until(lambda: st.state() == State.DONE)
    out = workspace.output
    assert published(out) == ["hero__dance.json", "hero__dance.mp4"]
    sidecar = json.loads((out / "hero__dance.json").read_text())
    assert sidecar["job"]["state"] == "done" and sidecar["review"] is None
    assert sidecar["output"]["sha256"] == doc["output"]["sha256"]  # the reviewed bytes
    assert not list((out / "_review").iterdir())  # moved out, its review sidecar gone
    details = [e.detail for e in st.service.store.events(1)]
    assert "accepted by a person" in details
    done = st.service.store.get(1)
    assert done is not None and done.viggle_job_id == submitted.viggle_job_id
    assert len(emu.emulator.stats()["render_submissions"]) == 1  # nothing rendered again


def test_only_a_job_in_review_can_be_accepted(
    stepper_for: Any, workspace: Workspace, closing: ExitStack
) -> None:
    st, _, _ = held_for_review(stepper_for, workspace, closing, "none")
    with pytest.raises(actions.ActionError, match="only a job held for review"):
        actions.accept(st.service.store, 1, now=st.clock.time())


def test_on_failed_runs_for_a_render_held_for_review(
    stepper_for: Any, workspace: Workspace, closing: ExitStack, tmp_path: Path
) -> None:
    """The rule's ``on_failed`` command runs, given the held video and its review sidecar."""
    script, record = tmp_path / "record.py", tmp_path / "called.txt"
    script.write_text(
        "import sys, pathlib\npathlib.Path(sys.argv[1]).write_text('\\n'.join(sys.argv[2:]))\n"
    )
    hook = {"command": [sys.executable, str(script), str(record)]}
    st, _, _ = held_for_review(stepper_for, workspace, closing, "frozen", on_failed=hook)
    assert st.state() == State.REVIEW
    st.service.hooks.start()  # the worker that runs what was queued (the stepper has no run())
    closing.callback(st.service.hooks.stop, 10)
    wait_for(record.exists, timeout_s=30)
    called = record.read_text()
    assert "_review/hero__dance.mp4" in called and "_review/hero__dance.json" in called


def test_an_accept_holds_when_notes_follow_it(
    stepper_for: Any, workspace: Workspace, closing: ExitStack
) -> None:
    """A hook's outcome or a take-over written after `jobs accept` changes no state: the job
    is still published as accepted, not judged (and held) again."""
    st, _emu, _ = held_for_review(stepper_for, workspace, closing, "black")
    actions.accept(st.service.store, 1, now=st.clock.time())
    st.service.store.note(1, "hook on_failed webhook: delivered (1 attempt)", at=st.clock.time())
    st.run_until(lambda: st.state() == State.DONE)
    assert published(workspace.output) == ["hero__dance.json", "hero__dance.mp4"]


def test_a_render_in_review_keeps_its_name(
    stepper_for: Any, workspace: Workspace, closing: ExitStack
) -> None:
    """A second render of the same name, while the first waits in _review/, takes NAME-2: the
    first one's review copy is never overwritten, nor, once accepted, the second's video."""
    st, emu, _ = held_for_review(stepper_for, workspace, closing, "black")
    held = (workspace.output / "_review" / "hero__dance.mp4").read_bytes()
    emu.emulator.set_faults(Faults())
    (workspace.watch / "processed").mkdir(exist_ok=True)
    make_character_png(workspace.watch / "hero.png", seed=9)  # new bytes, the same name
    st.ingest()
    st.run_until(lambda: st.state(2) == State.DONE)
    job = st.service.store.get(2)
    assert job is not None and job.output_path and job.output_path.endswith("hero__dance-2.mp4")
    assert (workspace.output / "_review" / "hero__dance.mp4").read_bytes() == held
