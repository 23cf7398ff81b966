"""SIGHUP (`viggle-watch reload`): new rules apply without a restart; a broken config is
refused and the old one keeps working."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import yaml

from tests.support.cli import run_cli
from tests.support.drills.service import start_service
from tests.support.waits import wait_for
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.config import Config
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.synth import make_character_png


def done_outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.json"))


def test_reload_adds_a_rule_and_refuses_a_broken_config(
    emulator: RunningEmulator, make_config: MakeConfig, workspace: Workspace, tmp_path: Path
) -> None:
    """A second rule added by reload renders its folder; a typo'd config is refused, logged,
    and the running rules keep working."""
    config: Config = make_config(emulator.url)
    log_path = tmp_path / "service.log"
    proc = start_service(config.source, log_path)
    try:
        wait_for((config.state_dir / "viggle-watch.pid").exists, what="pid file")
        doc: dict[str, Any] = yaml.safe_load(config.source.read_text(encoding="utf-8"))
        second = workspace.root / "in2"
        second.mkdir()
        doc["rules"].append({**doc["rules"][0], "name": "second", "watch": "in2", "output": "out2"})
        config.source.write_text(yaml.safe_dump(doc), encoding="utf-8")
        assert run_cli("reload", "--config", str(config.source)).returncode == 0
        wait_for(lambda: "config_reloaded" in log_path.read_text(), what="reloaded")
        make_character_png(second / "bob.png", seed=9)
        wait_for(
            lambda: done_outputs(workspace.root / "out2") == ["bob__dance.json"],
            what="the new rule's output",
        )

        config.source.write_text(yaml.safe_dump({**doc, "setle": "1s"}), encoding="utf-8")
        refused = run_cli("reload", "--config", str(config.source))  # checks before signalling
        assert refused.returncode == 2 and "setle: unknown key" in refused.stderr
        proc.send_signal(signal.SIGHUP)  # as `systemctl reload` does, without the check
        wait_for(lambda: "config_reload_failed" in log_path.read_text(), what="refused")
        make_character_png(workspace.watch / "carol.png", seed=10)
        wait_for(
            lambda: done_outputs(workspace.output) == ["carol__dance.json"],
            what="the old rules still work",
        )
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    events = [
        json.loads(line)["event"]
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    assert events.count("config_reloaded") == 1 and events.count("config_reload_failed") == 1
