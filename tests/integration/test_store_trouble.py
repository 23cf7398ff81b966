"""A store in trouble is not a bad input: with SQLite's write lock held by another process, a
good image stays in the watch folder (never `failed/` as internal_error) and is queued once the
store answers again."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.app.storage import state_db_path
from viggle_watch.media.synth import make_character_png

HOLD_WRITE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(600)
"""


def test_a_locked_store_leaves_a_good_input_waiting(stepper_for: Any, workspace: Workspace) -> None:
    """The intake's store error re-queues the file; nothing is filed as failed."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    image = make_character_png(workspace.watch / "alice.png", seed=2)
    db = state_db_path(st.service.config)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        while_locked = st.ingest()  # waits out SQLite's busy timeout, then gives up for now
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    kept = (image.exists(), (workspace.watch / "failed").exists())
    st.service.intake.rescan(st.clock.time())  # the periodic rescan finds it again
    assert (while_locked, kept, st.ingest(), len(st.service.store.latest())) == (
        0,
        (True, False),
        1,
        1,
    )
