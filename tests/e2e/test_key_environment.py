"""The API key does not stay in the service's environment (issue 14 §20): a hook — or anyone
allowed to read /proc/<pid>/environ — could read VIGGLE_API_KEY there. `run` re-executes
itself once without it, the key handed over through a pipe: same pid, the key still works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import key_env, stop
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def test_the_key_is_not_in_the_running_services_environment(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    with serve(EmulatorConfig(latency_s=0.2, keys=frozenset({KEY}))) as emu:
        config = make_config(emu.url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "viggle_watch", "run", "--config", str(config.source)],
            env=key_env(KEY),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: (config.state_dir / "store-id").exists(), timeout_s=30)
            env = environ_of(proc.pid)
            make_character_png(workspace.watch / "hero.png")
            wait_for(lambda: (workspace.output / "hero__dance.mp4").exists(), timeout_s=60)
            assert proc.poll() is None  # the same process, still running
        finally:
            stop(proc, 30)
    assert "VIGGLE_API_KEY" not in env
    assert KEY not in "".join(env.values())


def test_started_as_viggle_watch_it_is_still_found_by_that_name(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """The re-executed service keeps its name on its command line: `pgrep -f "viggle-watch
    run"` finds it (a new user saw only `python3 -m viggle_watch run` and thought it died)."""
    script = Path(sys.executable).with_name("viggle-watch")  # installed with the package
    assert script.is_file(), f"{script}: the console script is missing (pip install .)"
    config = make_config("http://127.0.0.1:9")
    proc = subprocess.Popen(
        [str(script), "run", "--config", str(config.source)],
        env=key_env(KEY),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: (config.state_dir / "store-id").exists(), timeout_s=30)
        wait_for(lambda: "VIGGLE_API_KEY" not in environ_of(proc.pid), timeout_s=30)
        words = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
    finally:
        stop(proc, 30)
    assert [w.decode() for w in words[1:4]] == [str(script), "run", "--config"]
