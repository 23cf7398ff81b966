"""A rule's own file (its scene video) missing at run time is the rule's trouble, not the
input's: the input waits in place, the log and `status` name the rule and the missing file,
and the input is taken by itself once the file is back: at the next settle tick, not the
next rescan (a new user waited 4½ minutes for it)."""

from __future__ import annotations

import json
from typing import Any

from structlog.testing import capture_logs

from tests.support.cli import key_env, run_cli
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, Workspace
from viggle_watch.media.synth import make_character_png


def status(config: str) -> dict[str, Any]:
    done = run_cli("status", "--json", "--config", config, env=key_env(KEY))
    done.check_returncode()
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def test_a_missing_scene_video_keeps_the_input_waiting(
    stepper_for: Any, workspace: Workspace
) -> None:
    """No job, no failed/, a rule_asset_missing line; then the video returns and it renders."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    config = str(st.service.config.source)
    aside = workspace.root / "dance.mp4.away"
    workspace.scene.rename(aside)  # the share with the rule's assets went away
    image = make_character_png(workspace.watch / "alice.png", seed=3)
    with capture_logs() as logs:
        queued = st.ingest()
    missing = [(e["rule"], e["path"]) for e in logs if e["event"] == "rule_asset_missing"]
    shown = status(config)["missing_assets"]
    waiting = (queued, image.exists(), (workspace.watch / "failed").exists())
    ticking = st.service.intake.waiting()  # the settle loop keeps looking while it waits
    aside.rename(workspace.scene)
    with capture_logs() as back:
        st.service.intake.tick(st.clock.time())  # no rescan: the next tick sees it back
    assert [(e["event"], e["inputs"]) for e in back if e["event"] == "rule_asset_back"] == [
        ("rule_asset_back", 1)
    ]
    assert (waiting, ticking, missing, shown) == (
        (0, True, False),
        True,
        [("dance", str(workspace.scene))],
        [{"rule": "dance", "path": str(workspace.scene)}],
    )
    assert (st.ingest(), status(config)["missing_assets"], st.service.intake.waiting()) == (
        1,
        [],
        False,
    )
