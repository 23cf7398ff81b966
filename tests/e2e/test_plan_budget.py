"""`plan` weighs its total against today's budget: the renders past the daily cap are marked
as ones that would wait, and the summary says how much of today's cap is left."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.media.synth import make_character_png


def plan(config: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "viggle_watch", "plan", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_renders_past_the_daily_cap_would_wait(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """Three 1-credit renders against a cap of 2: the third would wait; the text says so."""
    config = make_config("http://127.0.0.1:9", budget={"daily_credits": 2})
    for seed in range(3):
        make_character_png(workspace.watch / f"c{seed}.png", seed=seed)
    lines = json.loads(plan(config.source, "--json"))
    text = " ".join(plan(config.source).split())
    assert [(line["credits"], line["waits_for_budget"]) for line in lines] == [
        (1.0, False),
        (1.0, False),
        (1.0, True),
    ]
    assert "today: 0 of the 2 daily credits used, 2 left; 1 render(s) would wait" in text
