"""The installed `viggle-watch` command as a user runs it, in subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.cli import CLI, key_env
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace, drop
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.outputs.documents import Status
from viggle_watch.store.states import State


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def status_json(config: Path) -> dict[str, object]:
    result = cli("status", "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    body: dict[str, object] = json.loads(result.stdout)
    Status.model_validate(body)  # what the published schema says, no more, no less
    return body


def run_then_signal(
    args: list[str], until: Callable[[], None], sig: signal.Signals
) -> subprocess.CompletedProcess[str]:
    """Start ``args`` (with the test key), wait ``until()``, send ``sig``; how it ended."""
    proc = subprocess.Popen(
        args, env=key_env(KEY), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        until()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill() if proc.poll() is None else None
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def test_a_second_demo_in_one_workspace_renders_its_own_character(tmp_path: Path) -> None:
    """Run twice: each run follows the job made from its own dropped file (not the previous
    run's finished one), renders it, and says the emulator saw that one submission."""
    ws = tmp_path / "demo"
    runs = [cli("demo", "--workspace", str(ws), "--timeout", "60", timeout=120) for _ in range(2)]
    second = runs[1].stdout
    assert [r.returncode for r in runs] == [0, 0], runs[1].stdout + runs[1].stderr
    assert ("job 2 [demo] done" in second, "emulator saw 1 render submission(s)" in second) == (
        True,
        True,
    )
    assert (len(list((ws / "out").glob("*.mp4"))), status_json(ws / "config.yaml")["counts"]) == (
        2,
        {**{str(s): 0 for s in State}, "done": 2},
    )


def test_demo_renders_offline_and_exits_zero(tmp_path: Path) -> None:
    """`viggle-watch demo` makes a video and a sidecar, moves the input and says where they are."""
    ws = tmp_path / "demo"
    result = cli("demo", "--workspace", str(ws), "--timeout", "60", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "viggle emulator listening on http://127.0.0.1:" in result.stdout
    assert "done" in result.stdout and "rendering" in result.stdout
    videos = list((ws / "out").glob("*.mp4"))
    assert len(videos) == 1
    sidecar = json.loads(videos[0].with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["output"]["file"] == videos[0].name
    assert len(list((ws / "in" / "processed").glob("*.png"))) == 1
    assert "Traceback" not in result.stderr
    status = status_json(ws / "config.yaml")
    counts = status["counts"]
    assert isinstance(counts, dict)
    assert set(counts) == {str(s) for s in State}
    assert counts["done"] == 1 and sum(counts.values()) == 1
    # the --json schema scripts rely on (keys are only ever added)
    assert set(status) >= {"counts", "jobs", "uncertain", "credits", "watch", "waiting_partners"}
    jobs = status["jobs"]
    assert isinstance(jobs, list)
    assert set(jobs[0]) >= {
        "id",
        "rule",
        "state",
        "input",
        "scene",
        "model",
        "mode",
        "viggle_job_id",
        "progress_pct",
        "output",
        "error",
        "why",
        "estimate_credits",
        "created_at",
        "updated_at",
    }
    assert status["credits"] == {"today": 2.0, "daily_cap": None}
    piped = cli("status", "--config", str(ws / "config.yaml"))  # no terminal: plain text
    assert piped.returncode == 0, piped.stderr
    assert "1 done" in piped.stdout and "latest jobs" in piped.stdout
    assert "Traceback" not in piped.stderr


def test_run_stops_on_ctrl_c_and_resumes(
    emulator: RunningEmulator, make_config: MakeConfig, workspace: Workspace
) -> None:
    """`run` exits 0 on SIGINT while a job renders; a second `run` finishes it, paying once."""
    config = make_config(emulator.url)
    args = [*CLI, "--log-format", "json", "run", "--config", str(config.source)]

    def counted(state: str) -> Callable[[], bool]:
        return lambda: status_json(config.source)["counts"][state] == 1  # type: ignore[index]

    def rendering() -> None:
        wait_for(lambda: (config.state_dir / "state.db").exists(), what="state db")
        drop(workspace.watch / "alice.png", workspace.character())
        wait_for(counted("rendering"), what="rendering")

    first = run_then_signal(args, rendering, signal.SIGINT)
    assert first.returncode == 0, first.stderr
    assert KEY not in first.stdout + first.stderr
    second = run_then_signal(
        args, lambda: wait_for(counted("done"), what="done after restart"), signal.SIGTERM
    )
    assert second.returncode == 0, second.stderr
    assert KEY not in second.stdout + second.stderr
    stats = requests.get(f"{emulator.url}/_sim/stats", timeout=5).json()
    assert stats["calls"]["POST /api/render"] == 1
    assert (workspace.output / "alice__dance.mp4").exists()


def test_sim_prints_its_url_and_serves(tmp_path: Path) -> None:
    """`viggle-watch sim --port 0` prints one line with its URL and answers the stats route."""
    proc = subprocess.Popen(
        [*CLI, "sim", "--port", "0", "--latency", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("viggle emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[-1]
        body = requests.get(f"{url}/_sim/stats", timeout=5).json()
        assert body["render_submissions"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_bad_config_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    """A typo'd key names file, line and field, exits 2, and prints no traceback."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "state_dir: state\nrules:\n  - name: dance\n    kind: characters\n    watch: in\n"
        "    output: out\n    modle: V4_Preview\n    scenes:\n      - video: a.mp4\n",
        encoding="utf-8",
    )
    result = cli("check-config", "--config", str(config))
    assert result.returncode == 2
    assert f"{config}:7: rules.0.modle: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
    missing = cli("status")
    assert missing.returncode == 2
    assert "VIGGLE_WATCH_CONFIG" in missing.stderr


def test_status_and_jobs_list_before_the_first_run_answer_and_create_nothing(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """A new user's first `status`: no jobs, the folders, the service not running, and where
    the store will be — exit 0, with the state directory left uncreated."""
    config = make_config("http://127.0.0.1:9")
    state_dir = config.state_dir
    text = cli("status", "--config", str(config.source))
    assert text.returncode == 0, text.stderr
    assert "no job store yet" in text.stdout and "not running" in text.stdout
    body = status_json(config.source)
    assert (body["counts"], body["jobs"], body["service"]) == ({}, [], {"running": False})
    listed = cli("jobs", "list", "--config", str(config.source))
    assert (listed.returncode, listed.stdout.strip()) == (
        0,
        "no jobs yet (the first `viggle-watch run` makes the store)",
    )
    assert json.loads(cli("jobs", "list", "--json", "--config", str(config.source)).stdout) == []
    assert not state_dir.exists()


def test_demo_never_writes_over_a_persons_workspace(tmp_path: Path) -> None:
    """A folder with someone's own config.yaml (or a file) is refused before the emulator even
    starts; the config is left exactly as it was."""
    ws = tmp_path / "mine"
    ws.mkdir()
    own = "api: {key_file: /etc/viggle-watch/api-key}\nstate_dir: state\nrules: []\n"
    (ws / "config.yaml").write_text(own, encoding="utf-8")
    refused = cli("demo", "--workspace", str(ws), "--timeout", "5")
    not_a_folder = cli("demo", "--workspace", str(ws / "config.yaml"), "--timeout", "5")
    assert (refused.returncode, (ws / "config.yaml").read_text(encoding="utf-8")) == (2, own)
    assert "never writes over your files" in refused.stderr
    assert not_a_folder.returncode == 2 and "is not a folder" in not_a_folder.stderr
    for done in (refused, not_a_folder):
        assert "listening" not in done.stdout and "Traceback" not in done.stderr


def test_status_counts_refused_inputs_and_names_no_file_system_for_a_missing_folder(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    config = make_config("http://127.0.0.1:9")
    failed = workspace.watch / "failed"
    failed.mkdir()
    (failed / "notes.png").write_bytes(b"x")
    (failed / "notes.png.error.json").write_text("{}")
    shown = " ".join(cli("status", "--config", str(config.source)).stdout.split())
    assert status_json(config.source)["watch"][0]["refused"] == 1  # type: ignore[index]
    assert "1 input(s) refused (in failed/, each with why)" in shown
    for child in (failed / "notes.png", failed / "notes.png.error.json"):
        child.unlink()
    failed.rmdir()
    workspace.watch.rmdir()
    lines = cli("status", "--config", str(config.source)).stdout.splitlines()
    watched = [line.strip() for line in lines if line.startswith("watch ")]
    assert watched == [f"watch {workspace.watch}: missing (unmounted share?)"]
