"""A store that existed is never silently recreated (issue 14 §14): with the state directory's
marker in place, a zero-length, missing or foreign `state.db` refuses to start (exit 2) with
how to restore or reset; `viggle-watch store reset` starts a new one on purpose, keeps the old
files, and takes the inputs already in the watch folders as seen."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import key_env
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, MakeConfig, Workspace
from viggle_watch.app.storage import open_backend
from viggle_watch.clock import day_of
from viggle_watch.config import Config
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.identity import (
    MARKER,
    StoreMismatchError,
    db_store_id,
    set_db_store_id,
)
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.records import Spend, insert_spend
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State


def cli(config: Config, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "viggle_watch", *args, "--config", str(config.source)],
        capture_output=True,
        text=True,
        timeout=60,
        env=key_env(KEY),
        check=False,
    )


def made(make_config: MakeConfig) -> Config:
    """A config whose store was created and given its id, as a first `run` does."""
    config = make_config("http://127.0.0.1:9")
    open_backend(config).close()
    return config


def test_a_new_store_gets_an_id_in_the_database_and_the_marker(make_config: MakeConfig) -> None:
    config = made(make_config)
    marker = (config.state_dir / MARKER).read_text().strip()
    db = Database.open(config.state_dir / "state.db")
    assert db_store_id(db) == marker and len(marker) == 32
    db.close()


@pytest.mark.parametrize("damage", ["zero-length", "deleted", "another store"])
def test_a_lost_store_refuses_to_start_and_says_how_to_recover(
    make_config: MakeConfig, tmp_path: Path, damage: str
) -> None:
    config = made(make_config)
    db_file = config.state_dir / "state.db"
    for name in ("state.db-wal", "state.db-shm"):
        (config.state_dir / name).unlink(missing_ok=True)
    if damage == "zero-length":
        db_file.write_bytes(b"")
    elif damage == "deleted":
        db_file.unlink()
    else:  # a backup of some other state directory, copied over by mistake
        other = Database.open(tmp_path / "other.db")
        set_db_store_id(other, "0123456789abcdef0123456789abcdef")
        other.close()
        shutil.copy(tmp_path / "other.db", db_file)
    with pytest.raises(StoreMismatchError, match="store reset"):
        open_backend(config)
    done = cli(config, "run")
    assert (done.returncode, "Traceback" in done.stderr) == (2, False)
    assert "is not the one" in done.stderr and "restore" in done.stderr.lower()
    if damage == "zero-length":
        assert db_file.stat().st_size == 0  # not made into a new store behind our back


def test_a_store_from_before_the_marker_is_given_one(make_config: MakeConfig) -> None:
    config = made(make_config)
    marker = config.state_dir / MARKER
    marker.unlink()
    db = Database.open(config.state_dir / "state.db")
    with db.write() as conn:
        conn.execute("DELETE FROM store_meta")
    db.close()
    open_backend(config).close()
    assert marker.read_text().strip()


def test_store_reset_starts_afresh_and_takes_the_inputs_there_as_seen(
    make_config: MakeConfig, workspace: Workspace, stepper_for: Any
) -> None:
    config = made(make_config)
    (config.state_dir / "state.db").write_bytes(b"")  # lost, no backup
    make_character_png(workspace.watch / "old.png")  # already rendered before the loss
    refused = cli(config, "store", "reset")  # a script that did not say --yes
    reset = cli(config, "store", "reset", "--yes")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert reset.returncode == 0, reset.stderr
    assert "1 input(s) taken as seen" in reset.stdout
    kept = sorted(p.name for p in config.state_dir.glob("*.before-reset-*"))
    assert sorted(name.split(".before-reset-")[0] for name in kept) == ["state.db", MARKER]
    planned = json.loads(cli(config, "plan", "--json").stdout)  # as the service will see it
    assert [(Path(p["source"]).name, p["action"]) for p in planned] == [("old.png", "skip")]
    assert planned[0]["reason"].startswith("taken as seen")
    st: Stepper = stepper_for("http://127.0.0.1:9")
    make_character_png(workspace.watch / "new.png", seed=3)
    assert st.ingest() == 1  # the new one only
    job = st.service.store.get(1)
    assert job is not None and job.state == State.QUEUED
    assert job.spec.character.path.endswith("new.png")


def test_store_reset_carries_todays_committed_credits_and_says_what_the_old_store_held(
    make_config: MakeConfig,
) -> None:
    """A reset must not hand out a second daily cap: the credits committed today in the old
    store count in the new one. Before asking, it says a healthy store holds jobs."""
    config = made(make_config)
    today = day_of(time.time())
    db = Database.open(config.state_dir / "state.db")
    try:
        with db.write() as conn:
            insert_spend(conn, None, Spend("render", 7.0, today), time.time())
    finally:
        db.close()
    asked = cli(config, "store", "reset")  # a script: refused, with the question
    reset = cli(config, "store", "reset", "--yes")
    new = open_backend(config, readonly=True)
    try:
        committed = JobStore(new).spent_on(today)
    finally:
        new.close()
    assert "The old store holds no jobs; today's 7 committed credits are carried over." in (
        asked.stderr
    )
    assert (reset.returncode, committed) == (0, 7.0)
    assert "today's 7 committed credits are carried over" in reset.stdout


def test_an_unreadable_old_store_is_said_to_lose_todays_credits(make_config: MakeConfig) -> None:
    config = made(make_config)
    (config.state_dir / "state.db").write_bytes(b"not a database at all, sixteen+ bytes")
    reset = cli(config, "store", "reset", "--yes")
    assert reset.returncode == 0, reset.stderr
    assert "cannot be read (damaged?)" in reset.stdout and "counts from 0 today" in reset.stdout
