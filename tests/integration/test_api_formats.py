"""What the intake accepts is what the API takes, per role (docs/viggle-api.md §4): WebP is a
character Viggle makes first (preprocessed), never one sent with an on-demand render; files no
rule uses are said once each, and counted by `status`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from structlog.testing import capture_logs

from tests.support.cli import key_env, run_cli
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, Workspace, dance_rule


def webp(path: Path) -> Path:
    Image.new("RGB", (128, 128), (20, 120, 200)).save(path, format="WEBP")
    return path


def error_code(folder: Path, name: str) -> str:
    doc = json.loads((folder / "failed" / f"{name}.error.json").read_text(encoding="utf-8"))
    return str(doc["code"])


def test_webp_is_refused_on_demand_and_taken_when_preprocessed(
    stepper_for: Any, workspace: Workspace
) -> None:
    """On demand: failed/ with the format named; preprocessed: a queued job."""
    on_demand: Stepper = stepper_for("http://127.0.0.1:9")
    webp(workspace.watch / "alice.webp")
    on_demand.ingest()
    refused = error_code(workspace.watch, "alice.webp")
    other = workspace.root / "pre"
    other.mkdir()
    rule = {**dance_rule(), "name": "pre", "watch": "pre", "mode": "preprocessed"}
    preprocessed: Stepper = stepper_for("http://127.0.0.1:9", rules=[rule], state_dir="s2")
    webp(other / "bob.webp")
    assert (refused, preprocessed.ingest(), (other / "failed").exists()) == (
        "image_format",
        1,
        False,
    )


def test_files_no_rule_uses_are_said_once_and_counted(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A .txt and a .gif: one file_ignored line each (not again at the next rescan), and
    `status --json` lists them under their watch folder."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    (workspace.watch / "notes.txt").write_text("shot list", encoding="utf-8")
    Image.new("RGB", (80, 80)).save(workspace.watch / "pic.gif", format="GIF")
    with capture_logs() as logs:
        st.service.intake.rescan(st.clock.time())
        st.service.intake.rescan(st.clock.time())
    said = sorted(Path(e["path"]).name for e in logs if e["event"] == "file_ignored")
    config = str(st.service.config.source)
    done = run_cli("status", "--json", "--config", config, env=key_env(KEY))
    done.check_returncode()
    watch = json.loads(done.stdout)["watch"]
    assert (said, [(w["ignored"], w["ignored_examples"]) for w in watch]) == (
        ["notes.txt", "pic.gif"],
        [(2, ["notes.txt", "pic.gif"])],
    )


def test_many_unused_files_are_counted_not_listed_one_by_one(
    stepper_for: Any, workspace: Workspace
) -> None:
    """25 notes: the first 20 named, then one line with the count; nothing again next time."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    for n in range(25):
        (workspace.watch / f"note{n:02}.txt").write_text("x", encoding="utf-8")
    with capture_logs() as logs:
        st.service.intake.rescan(st.clock.time())
        first = [(e["event"], e.get("count")) for e in logs]
        st.service.intake.rescan(st.clock.time())
    again = [e for e in logs[len(first) :] if e["event"] in ("file_ignored", "files_ignored")]
    said = [event for event, _ in first if event in ("file_ignored", "files_ignored")]
    assert (said.count("file_ignored"), ("files_ignored", 25) in first, again) == (20, True, [])
