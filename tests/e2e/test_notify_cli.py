"""`viggle-watch notify test`, `check-config` and `status` with notify targets, as a person runs
them (subprocesses; real Apprise to receivers on 127.0.0.1). The URL's token never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import key_env, run_cli
from tests.support.hooks import receiving
from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import KEY, Workspace
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.notify.events import sample
from viggle_watch.outputs.documents import Status

TOKEN = "t0ps3cret"


def test_notify_test_sends_each_event_and_says_what_each_answered(
    stepper_for: Any, workspace: Workspace, tmp_path: Path
) -> None:
    with receiving() as got, serve(EmulatorConfig(latency_s=0.2)) as emu:
        url_file = tmp_path / "target.url"
        url_file.write_text("json://" + got.url.removeprefix("http://") + "\n")
        notify = [
            {"url_file": str(url_file), "events": ["failed", "review"]},
            {"url": f"json://user:{TOKEN}@127.0.0.1:9/x", "events": ["failed"]},
        ]
        st: Stepper = stepper_for(emu.url, notify=notify)
        config = st.service.config.source
        checked = run_cli("check-config", str(config), env=key_env(KEY))
        assert checked.returncode == 0, checked.stderr
        assert "notify[0] (target.url): events failed, review" in checked.stdout
        assert "notify[1] json: events failed" in checked.stdout
        tested = run_cli("notify", "test", "--config", str(config), env=key_env(KEY))
        one = run_cli("notify", "test", "--event", "review", "--config", str(config))
        bad = run_cli("notify", "test", "--event", "nope", "--config", str(config))
    assert tested.returncode == 1  # the second target is down
    lines = tested.stdout.splitlines()
    assert "notify[0] (target.url) failed: delivered" in lines
    assert "notify[0] (target.url) review: delivered" in lines
    assert any(line.startswith("notify[1] json failed: ") for line in lines)
    assert one.returncode == 0 and one.stdout.splitlines() == [
        "notify[0] (target.url) review: delivered"
    ]
    assert bad.returncode == 2 and "one of done, failed" in bad.stderr
    titles = [json.loads(r.body)["title"] for r in got.got]
    assert titles == ["Test: the failed event", "Test: the review event", "Test: the review event"]
    everything = checked.stdout + checked.stderr + tested.stdout + tested.stderr
    assert TOKEN not in everything


def test_status_shows_a_target_that_fails(stepper_for: Any, workspace: Workspace) -> None:
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        notify = [{"url": f"json://user:{TOKEN}@127.0.0.1:9/x", "events": ["started"]}]
        st: Stepper = stepper_for(emu.url, notify=notify)
        st.service.outbox.start()
        st.service.outbox.emit(sample("started", 0.0))
        st.service.outbox.stop()
        config = st.service.config.source
        wait_for(lambda: (workspace.root / "state" / "notify-status.json").exists())
        shown = run_cli("status", "--config", str(config))
        as_json = json.loads(run_cli("status", "--json", "--config", str(config)).stdout)
    assert shown.returncode == 0, shown.stderr
    assert "notify[0] json: 0 sent, 1 failed (last: " in shown.stdout
    Status.model_validate(as_json)
    assert [(t["target"], t["failed"]) for t in as_json["notify"]] == [("notify[0] json", 1)]
    assert TOKEN not in shown.stdout + json.dumps(as_json)
