"""The drift corpus (issue 15): the real service against the emulator answering as the real API
might where the docs leave room. A variant the client can read: every job is done, each paid
once. An odd one (an answer that cannot be read): each job ends with a reason in words — never
failed for Viggle's sake when it may have been charged, never sent twice — and no tick raises
(the ticks are called directly here: a raise fails the test)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.app.report import gather
from viggle_watch.emulator.drift import VARIANTS
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import TERMINAL, State

JOBS = 2


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_drift_variant(stepper_for: Any, workspace: Workspace, name: str) -> None:
    variant = VARIANTS[name]
    with serve(EmulatorConfig(latency_s=0.3, faults=Faults(drift=name))) as emu:
        st: Stepper = stepper_for(emu.url, render_timeout="30s", max_concurrent_renders=JOBS)
        for seed in range(JOBS):
            make_character_png(workspace.watch / f"c{seed}.png", seed=seed)
        assert st.ingest() == JOBS
        store = st.service.store

        def settled() -> bool:
            states = [j.state for j in store.latest()]
            return all(s in TERMINAL or s == State.UNCERTAIN for s in states)

        st.run_until(settled, seconds=2.0)
        stats = emu.emulator.stats()
    jobs = store.latest()
    sent = Counter(s["ref_image_sha256"] for s in stats["render_submissions"])
    assert max(sent.values(), default=0) <= 1, "a render was paid twice"
    if not variant.odd:
        assert [j.state for j in jobs] == [State.DONE] * JOBS, [j.error_message for j in jobs]
        return
    for job in jobs:  # a reason a person can act on, in words
        assert job.state in (State.DONE, State.UNCERTAIN), (job.state, job.error_message)
        if job.state == State.UNCERTAIN:
            said = store.events(job.id)[-1].detail
            words = ("cannot read", "not JSON", "no readable answer", "without")
            assert any(w in said for w in words), said


def test_an_unknown_status_word_is_shown_as_still_working(
    stepper_for: Any, workspace: Workspace
) -> None:
    """'in_progress' is not a word the docs use: the job keeps rendering, and `status` and
    `jobs show` say what Viggle said and how it was taken."""
    with serve(EmulatorConfig(latency_s=60, faults=Faults(drift="status-new-words"))) as emu:
        st: Stepper = stepper_for(emu.url)
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.RENDERING)
        for _ in range(3):
            st.step(5)
        shown = gather(st.service.config)["jobs"][0]["why"]
        notes = [e.detail for e in st.service.store.events(1) if "Viggle says" in e.detail]
    assert st.state() == State.RENDERING
    assert shown in {
        f"Viggle says {w!r}: taken as still working" for w in ("waiting", "in_progress")
    }
    assert len(notes) == len(set(notes))  # each word said once, not at every poll
