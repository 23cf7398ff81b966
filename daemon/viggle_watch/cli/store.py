"""`viggle-watch store reset`: a new, empty job store on purpose — the one way past a store
whose marker and database disagree (``store.identity``). The old files are kept beside the new
(never deleted), and the inputs already in the watch folders are taken as seen, so nothing is
rendered or paid again unless asked (``--render-existing``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from viggle_watch.app.lock import ServiceLock
from viggle_watch.app.storage import host_name, open_backend, state_db_path
from viggle_watch.cli.bulk import confirmed
from viggle_watch.clock import day_of
from viggle_watch.config import Config
from viggle_watch.errors import ViggleWatchError
from viggle_watch.intake.spec import sha256_file
from viggle_watch.intake.unused import candidates
from viggle_watch.store.identity import MARKER, db_store_id
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.records import CARRIED, Spend, insert_spend


def reset_store(config: Config, *, yes: bool, render_existing: bool) -> int:
    lock = ServiceLock(config.state_dir)  # refused while the service runs (exit 75)
    lock.acquire(host=host_name(config), now=time.time())
    try:
        inputs = [(rule.name, entry.path) for rule in config.rules for entry in candidates(rule)]
        where = (config.store.url and "the shared PostgreSQL store") or str(state_db_path(config))
        seen = "rendered (and paid) again" if render_existing else "taken as seen, not rendered"
        now = time.time()
        old = None if config.store.url else _old_store(config, day_of(now))  # SQLite: a new file
        question = (
            f"Start a new job store for {config.state_dir} ({where}); the old files are kept "
            f"beside it. {len(inputs)} input(s) now in the watch folders will be {seen}."
            + (f" {old_words(old)}" if not config.store.url else "")
        )
        if not confirmed(question, yes=yes):
            print("nothing was changed")
            return 1
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        kept = _set_aside(config, stamp)
        db = open_backend(config)  # a new SQLite file (or the shared store) and its id
        try:
            store_id = db_store_id(db)
            if old is not None and old.committed_today:  # the daily cap still counts them
                with db.write() as conn:
                    insert_spend(conn, None, Spend(CARRIED, old.committed_today, day_of(now)), now)
            if not render_existing:
                _take_as_seen(JobStore(db), inputs)
        finally:
            db.close()
    finally:
        lock.release()
    print(f"a new job store {store_id} is in use for {config.state_dir}")
    for path in kept:
        print(f"  kept: {path}")
    if not render_existing and inputs:
        print(f"  {len(inputs)} input(s) taken as seen; drop (or touch) one to render it")
    if not config.store.url:
        print(f"  {old_words(old)}")
    return 0


@dataclass(frozen=True, slots=True)
class OldStore:
    """What the store being set aside held: its jobs, and the credits committed today."""

    jobs: int
    committed_today: float


def _old_store(config: Config, today: str) -> OldStore | None:
    """Read the store being replaced, if it still reads (it may be why it is replaced)."""
    if not state_db_path(config).exists():
        return OldStore(0, 0.0)
    try:
        db = open_backend(config, readonly=True)  # never migrates, never checks the marker
    except (ViggleWatchError, OSError):
        return None
    try:
        store = JobStore(db)
        return OldStore(sum(store.counts().values()), store.spent_on(today))
    except (ViggleWatchError, OSError):
        return None
    finally:
        db.close()


def old_words(old: OldStore | None) -> str:
    """What a person should know before replacing it: a healthy store loses its history here,
    and the day's committed credits must still count against the cap."""
    if old is None:
        return (
            "The old store cannot be read (damaged?): today's committed credits cannot be "
            "carried over, so the daily cap counts from 0 today."
        )
    held = (
        f"The old store reads fine and holds {old.jobs} job(s) (their history stays in the "
        "old file only)"
        if old.jobs
        else "The old store holds no jobs"
    )
    return f"{held}; today's {old.committed_today:g} committed credits are carried over."


def _set_aside(config: Config, stamp: str) -> list[Path]:
    """The marker, and on SQLite the database files, renamed ``NAME.before-reset-STAMP``."""
    names = [MARKER] if config.store.url else [MARKER, "state.db", "state.db-wal", "state.db-shm"]
    kept = []
    for name in names:
        path = config.state_dir / name
        if path.exists():
            target = path.with_name(f"{name}.before-reset-{stamp}")
            path.rename(target)
            kept.append(target)
    return kept


def _take_as_seen(store: JobStore, inputs: list[tuple[str, Path]]) -> None:
    now = time.time()
    for rule, path in inputs:
        try:
            st = path.stat()
            digest = sha256_file(path) if path.is_file() else ""
        except OSError:
            continue  # gone meanwhile: nothing to take as seen
        store.remember_seen(rule, str(path), st.st_size, st.st_mtime_ns, digest, now)
