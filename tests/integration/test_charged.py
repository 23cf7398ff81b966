"""Credits tell the truth (issue 13 §10): every sidecar and `jobs show` carry what Viggle
charged beside the estimate — its own figure when an answer carries one, else the balance
difference when the render was the only paid request in flight, else null and "not
reported" — and a template render is estimated from the template's length. The service's ticks
are stepped against the emulator over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.app.report import job_detail
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.documents import Sidecar
from viggle_watch.store.states import State
from viggle_watch.viggle.charged import BALANCE, NOT_REPORTED, REPORTED

SOLO_GROOVE = "5f2d9c1e-8a4b-4e7f-9c3d-2b1a0e9f8d7c"  # a 4 s template in the emulator's table


def sidecar_credits(workspace: Workspace, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((workspace.output / f"{name}.json").read_text())
    Sidecar.model_validate(doc)  # every sidecar is what the published schema says
    credits: dict[str, Any] = doc["credits"]
    return credits


def render_cost(emulator_stats: EmulatorStats) -> list[float]:
    return [float(s["credits_reserved"]) for s in emulator_stats["render_submissions"]]


def finish(st: Stepper, jobs: int) -> None:
    st.ingest()
    st.run_until(lambda: st.service.store.counts().get(State.DONE, 0) == jobs)


def test_a_render_alone_is_charged_the_balance_difference(
    stepper_for: Any, workspace: Workspace
) -> None:
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url)
        make_character_png(workspace.watch / "solo.png")
        finish(st, 1)
        (cost,) = render_cost(emu.emulator.stats())
    credits = sidecar_credits(workspace, "solo__dance")
    assert credits == {"estimated": cost, "charged": cost, "charged_how": BALANCE}
    job = st.service.store.get(1)
    assert job is not None
    shown = job_detail(job, st.service.store.events(1))
    assert (shown["charged_credits"], shown["charged_how"]) == (cost, BALANCE)


def test_renders_in_flight_together_are_not_reported_never_guessed(
    stepper_for: Any, workspace: Workspace
) -> None:
    with serve(EmulatorConfig(latency_s=0.5)) as emu:
        st: Stepper = stepper_for(emu.url, max_concurrent_renders=2)
        for seed in range(2):
            make_character_png(workspace.watch / f"c{seed}.png", seed=seed)
        finish(st, 2)
    for name in ("c0__dance", "c1__dance"):
        credits = sidecar_credits(workspace, name)
        assert (credits["charged"], credits["charged_how"]) == (None, NOT_REPORTED)


def test_a_cost_in_viggles_answer_is_taken_as_the_charge(
    stepper_for: Any, workspace: Workspace
) -> None:
    with serve(EmulatorConfig(latency_s=0.5, faults=Faults(report_cost=True))) as emu:
        st: Stepper = stepper_for(emu.url, max_concurrent_renders=2)
        for seed in range(2):
            make_character_png(workspace.watch / f"c{seed}.png", seed=seed)
        finish(st, 2)
        costs = render_cost(emu.emulator.stats())
    charged = [sidecar_credits(workspace, f"c{i}__dance")["charged"] for i in range(2)]
    assert sorted(charged) == sorted(costs)
    assert sidecar_credits(workspace, "c0__dance")["charged_how"] == REPORTED


def test_a_template_render_is_estimated_from_the_templates_length(
    stepper_for: Any, workspace: Workspace
) -> None:
    """4 s template + 1 new character = 5 credits, not the 1 known before the import."""
    rule = dance_rule(mode="preprocessed", scenes=[{"template": SOLO_GROOVE}])
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[rule])
        make_character_png(workspace.watch / "hero.png")
        finish(st, 1)
        (cost,) = render_cost(emu.emulator.stats())
    (sidecar,) = Path(workspace.output).glob("hero__*.json")
    doc = json.loads(sidecar.read_text())
    Sidecar.model_validate(doc)  # preprocessed: character ids, a template, no scene file
    credits = doc["credits"]
    assert (cost, credits["estimated"]) == (4.0, 5.0)


def test_max_credits_per_job_holds_once_a_templates_length_is_known(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Admitted at 1 credit (the template's length unknown), the job is 5 once imported: over
    max_credits_per_job 3, it fails before the render is sent."""
    rule = dance_rule(mode="preprocessed", scenes=[{"template": SOLO_GROOVE}])
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[rule], budget={"max_credits_per_job": 3})
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.FAILED)
        assert emu.emulator.stats()["render_submissions"] == []
    job = st.service.store.get(1)
    assert job is not None and job.error_code == "over_budget"
    assert "max_credits_per_job 3" in (job.error_message or "")
