"""One service per state directory: a second `viggle-watch run` on the same config refuses at
once (exit 75, naming the first one's pid) and touches nothing of the first's; `status` says
the service runs and since when."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.cli import key_env, run_cli
from tests.support.drills.service import start_service
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.config import Config
from viggle_watch.emulator.server import RunningEmulator


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=key_env(KEY))


def test_a_second_run_on_one_state_dir_exits_at_once_and_touches_nothing(
    emulator: RunningEmulator, make_config: MakeConfig, tmp_path: Path
) -> None:
    """The first keeps running with its pid file; the second says who is there, exits 75."""
    config: Config = make_config(emulator.url)
    proc = start_service(config.source, tmp_path / "first.log")
    pid_file = config.state_dir / "viggle-watch.pid"
    try:
        wait_for(pid_file.exists, what="the first service's pid file")
        second = cli("run", "--config", str(config.source))
        status = json.loads(cli("status", "--json", "--config", str(config.source)).stdout)
        still = (proc.poll(), pid_file.read_text(encoding="utf-8").strip())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    expected = f"another viggle-watch (pid {proc.pid}) is using {config.state_dir}"
    assert (second.returncode, expected in second.stderr, "Traceback" in second.stderr) == (
        75,
        True,
        False,
    )
    assert (still, status["service"]["running"], status["service"]["pid"]) == (
        (None, str(proc.pid)),
        True,
        proc.pid,
    )
    stopped = json.loads(cli("status", "--json", "--config", str(config.source)).stdout)
    assert stopped["service"] == {"running": False}


def test_a_state_dir_that_is_a_file_is_an_error_not_a_traceback(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    """state_dir naming a file: exit 2 with the path and the reason."""
    config: Config = make_config("http://127.0.0.1:9")
    config.state_dir.parent.mkdir(parents=True, exist_ok=True)
    config.state_dir.write_text("not a folder", encoding="utf-8")
    done = cli("run", "--config", str(config.source))
    assert (done.returncode, f"state_dir {config.state_dir}" in done.stderr) == (2, True)
    assert "Traceback" not in done.stderr
