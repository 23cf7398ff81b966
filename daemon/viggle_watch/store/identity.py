"""A store that existed is never silently recreated (issue 14 §14: a zero-length `state.db` was
taken for a new store, and every render in flight was submitted and paid again).

At creation a store id is written into the database (``store_meta``) and into a marker file in
the state directory (``store-id``). At each start of a writer, ``judge`` compares them: a
marker whose database is missing, empty or holds another id refuses to start, saying how to
restore from a backup or how to start fresh on purpose (`viggle-watch store reset`). A store
from before the marker existed gets one at its first start; on PostgreSQL each host's marker
names the store id it last used (docs/reliability.md §1).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from viggle_watch.errors import ViggleWatchError
from viggle_watch.statedir import keep_private, make_state_dir
from viggle_watch.store.backend import Backend

MARKER: Final = "store-id"
KEY: Final = "store_id"
RESET_HINT: Final = (
    "Restore the job store from a backup, or start a new one on purpose with "
    "`viggle-watch store reset --config PATH` (the inputs already in the watch folders are "
    "then taken as seen, so nothing is paid again)"
)


class StoreMismatchError(ViggleWatchError):
    """The state directory's marker names a store the database is not: never start on it."""


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Literal["ok", "adopt", "mark", "refuse"]
    store_id: str = ""
    reason: str = ""


def judge(marker: str | None, db_id: str | None, new_id: str) -> Verdict:
    """Pure: what to do with the marker's id and the database's. ``adopt``: a new store (or
    one from before markers) takes ``new_id`` in both; ``mark``: the marker was lost, write it
    again; ``refuse``: the database is not the store the marker names."""
    if marker is None:
        return Verdict("adopt", new_id) if db_id is None else Verdict("mark", db_id)
    if db_id == marker:
        return Verdict("ok", marker)
    if db_id is None:
        why = "it holds no store id: it is missing, empty, or was made anew"
    else:
        why = f"it holds store {db_id}"
    return Verdict("refuse", marker, why)


def read_marker(state_dir: Path) -> str | None:
    try:
        text = (state_dir / MARKER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def write_marker(state_dir: Path, store_id: str) -> None:
    make_state_dir(state_dir)
    path = state_dir / MARKER
    part = path.with_name(MARKER + ".part")
    part.write_text(store_id + "\n", encoding="utf-8")
    keep_private(part)
    part.replace(path)


def db_store_id(db: Backend) -> str | None:
    with db.read() as conn:
        row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (KEY,)).fetchone()
    return None if row is None else str(row[0])


def set_db_store_id(db: Backend, store_id: str) -> None:
    with db.write() as conn:
        conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (KEY, store_id),
        )


def mismatch(state_dir: Path, where: str, verdict: Verdict) -> StoreMismatchError:
    return StoreMismatchError(
        f"the job store {where} is not the one {state_dir} last used (store "
        f"{verdict.store_id}): {verdict.reason}. A store that existed is never made anew on its "
        f"own: every render in flight would be paid again. {RESET_HINT}."
    )


def refuse_a_lost_file(state_dir: Path, db_file: Path) -> None:
    """Before SQLite opens (and so creates) ``db_file``: with a marker there, a missing or
    empty file is a lost store, not a new one."""
    marker = read_marker(state_dir)
    if marker is None:
        return
    if not db_file.exists() or db_file.stat().st_size == 0:
        lost = "it is missing" if not db_file.exists() else "it is empty (0 bytes)"
        raise mismatch(state_dir, str(db_file), Verdict("refuse", marker, lost))


def settle_identity(db: Backend, state_dir: Path, where: str) -> str:
    """At a writer's start: check (or give) the store its id; the id; raises on a mismatch."""
    verdict = judge(read_marker(state_dir), db_store_id(db), uuid.uuid4().hex)
    if verdict.action == "refuse":
        raise mismatch(state_dir, where, verdict)
    if verdict.action == "adopt":
        set_db_store_id(db, verdict.store_id)
        verdict = Verdict("mark", db_store_id(db) or verdict.store_id)  # another host was first
    if verdict.action == "mark":
        write_marker(state_dir, verdict.store_id)
    return verdict.store_id
