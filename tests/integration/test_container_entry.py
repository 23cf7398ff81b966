"""The image's entry point run as a process (issue 20), without a container: the starter config
on a first start, the umask, other programs, and bad settings in words. The same code runs as
the image's ENTRYPOINT in tests/container/."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from viggle_watch.config import load_config

ENTRY = [sys.executable, "-m", "viggle_watch.container"]


def entry(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The entry point as this test's own user (PUID/PGID: who we are, so nothing switches)."""
    who = {"PUID": str(os.geteuid()), "PGID": str(os.getegid())}
    return subprocess.run(
        [*ENTRY, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={**os.environ, **who, **env},
    )


def test_a_first_start_writes_a_starter_config_and_stops(tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.yaml"
    done = entry(VIGGLE_WATCH_CONFIG=str(config))
    assert done.returncode == 2
    assert f"no config at {config}: wrote a starter config there." in done.stderr
    assert "then start the container again" in done.stderr
    token = config.parent / "web-token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text().strip()) >= 40
    assert token.read_text().strip() not in done.stderr + done.stdout  # never printed
    starter = load_config(config)  # it is a config the service reads, once its files exist
    assert starter.web is not None and starter.web.hosts == ["*"]
    assert starter.budget.daily_credits == 100  # safe with money before anyone edits it
    assert [r.watch for r in starter.rules] == [Path("/data/dance/in")]


def test_a_first_start_never_writes_over_a_token(tmp_path: Path) -> None:
    token = tmp_path / "web-token"
    token.write_text("mine\n", encoding="utf-8")
    assert entry(VIGGLE_WATCH_CONFIG=str(tmp_path / "config.yaml")).returncode == 2
    assert token.read_text(encoding="utf-8") == "mine\n"


def test_the_umask_applies_to_what_runs(tmp_path: Path) -> None:
    done = entry("sh", "-c", "umask; touch made; stat -c %a made", cwd=tmp_path, UMASK="027")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0027", "640"]


def test_another_program_runs_as_given_and_a_missing_one_is_said() -> None:
    assert entry("sh", "-c", "exit 7").returncode == 7
    missing = entry("no-such-program-here")
    assert missing.returncode == 127
    assert "cannot run 'no-such-program-here'" in missing.stderr


def test_bad_settings_stop_it_in_words() -> None:
    done = entry("status", PUID="nobody")
    assert done.returncode == 2
    assert "error: PUID='nobody': a user or group id is a number" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_config_it_cannot_write_is_said_in_words(tmp_path: Path) -> None:
    """`run --config` names where the starter goes; a place it cannot be written is one line."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    done = entry("run", "--config", str(blocker / "config.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"error: File exists ({blocker})" in done.stderr  # a file where a folder goes
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"
    written = entry("run", "--config", str(tmp_path / "elsewhere.yaml"))
    assert written.returncode == 2 and (tmp_path / "elsewhere.yaml").exists()


def test_run_waits_on_a_broken_config_and_a_stop_ends_the_wait(tmp_path: Path) -> None:
    """VIGGLE_WATCH_ON_ERROR=wait (the image's): `run` on a broken config waits for it to change
    instead of exiting into a restart loop; SIGTERM ends the wait at once. Other commands never
    wait."""
    config = tmp_path / "config.yaml"
    config.write_text("rules: nonsense\n", encoding="utf-8")
    env = {**os.environ, "VIGGLE_WATCH_ON_ERROR": "wait"}
    status = subprocess.run(
        [sys.executable, "-m", "viggle_watch", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert status.returncode == 2 and "waiting for" not in status.stderr
    run = subprocess.Popen(
        [sys.executable, "-m", "viggle_watch", "run", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert run.stderr is not None
        said = ""
        while "waiting for" not in said:
            line = run.stderr.readline()
            assert line, f"run ended without waiting: {said}"
            said += line
        assert f"waiting for {config} to change (or 60 s)" in said
        assert run.poll() is None  # still waiting
        run.terminate()
        assert run.wait(timeout=10) == -15
    finally:
        run.kill()
        run.wait()
        if run.stderr is not None:
            run.stderr.close()
