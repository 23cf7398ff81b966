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
