"""`viggle-watch pause|resume`: a person holds every new paid step (kept in the store, so a
restart and every host obey it) and lets them go again; `status` says so; `check-config` says
whether Viggle accepts the key."""

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
from viggle_watch.store.states import State


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--config", str(config), env=key_env(KEY))


def test_pause_holds_new_submissions_and_resume_lets_them_go(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Paused: the job is not sent and status says why (the queued job too); resumed: it
    renders."""
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url)
        config = st.service.config.source
        paused = cli(config, "pause", "--reason", "editing the rules")
        make_character_png(workspace.watch / "alice.png", seed=1)
        st.ingest()
        for _ in range(3):
            st.step()
        status = json.loads(cli(config, "status", "--json").stdout)
        held = status["held"]
        why = [(j["state"], j["why"]) for j in status["jobs"]]
        shown = cli(config, "status").stdout
        sent_while_paused = emu.emulator.stats()["calls"].get("POST /api/render")
        resumed = cli(config, "resume")
        st.run_until(lambda: st.state() == State.DONE)
    assert (paused.returncode, paused.stdout.startswith("paused:")) == (0, True)
    assert [(h["flag"], h["reason"]) for h in held] == [("paused", "editing the rules")]
    assert why == [("queued", "held (paused: editing the rules)")]  # the job says why, too
    assert ("paused" in shown, "editing the rules" in shown, sent_while_paused) == (
        True,
        True,
        None,
    )
    assert (resumed.returncode, resumed.stdout.strip()) == (0, "resumed")


def test_check_config_says_whether_viggle_accepts_the_key(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A revoked key is reported as refused; a good one as accepted; nothing is spent."""
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        config = stepper_for(emu.url).service.config.source
        good = cli(config, "check-config")
        emu.emulator.set_faults(Faults(refuse_keys=True))
        revoked = cli(config, "check-config")
        calls = emu.emulator.stats()["calls"]
    assert (good.returncode, "accepted by Viggle" in good.stdout) == (0, True)
    assert (revoked.returncode, "refused by Viggle" in revoked.stdout) == (1, True)
    assert "start with sk-" not in revoked.stdout  # this key has the usual form
    assert set(calls) == {"GET /api/credits"}


def test_check_config_hints_at_a_key_of_the_wrong_form(stepper_for: Any) -> None:
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        config = stepper_for(emu.url).service.config.source
        done = run_cli("check-config", "--config", str(config), env=key_env("test123"))
    assert done.returncode == 1
    assert "Viggle's API keys start with sk-: this one does not" in done.stdout


def test_resume_asks_viggle_about_a_refused_key_at_once(
    stepper_for: Any, workspace: Workspace
) -> None:
    """The key was refused, then fixed: `resume` asks Viggle (a free call) and lowers the hold
    itself instead of leaving the person waiting up to 5 min; while refused it says so."""
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(refuse_keys=True))) as emu:
        st: Stepper = stepper_for(emu.url)
        st.service.gatekeeper.check_key(st.clock.time())
        config = st.service.config.source
        still = cli(config, "resume")
        emu.emulator.set_faults(Faults())  # the key works again
        lifted = cli(config, "resume")
        held = json.loads(cli(config, "status", "--json").stdout)["held"]
    assert still.returncode == 1 and "Viggle still refuses the API key" in still.stdout
    assert (lifted.returncode, "accepted by Viggle now" in lifted.stdout, held) == (0, True, [])
