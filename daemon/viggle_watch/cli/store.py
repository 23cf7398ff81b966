"""`viggle-watch store reset`: a new, empty job store on purpose — the one way past a store
whose marker and database disagree (``store.identity``). The old files are kept beside the new
(never deleted), and the inputs already in the watch folders are taken as seen, so nothing is
rendered or paid again unless asked (``--render-existing``)."""

from __future__ import annotations

import time
from pathlib import Path

from viggle_watch.app.lock import ServiceLock
from viggle_watch.app.storage import host_name, open_backend, state_db_path
from viggle_watch.cli.bulk import confirmed
from viggle_watch.config import Config
from viggle_watch.intake.spec import sha256_file
from viggle_watch.intake.unused import candidates
from viggle_watch.store.identity import MARKER, db_store_id
from viggle_watch.store.jobs import JobStore


def reset_store(config: Config, *, yes: bool, render_existing: bool) -> int:
    lock = ServiceLock(config.state_dir)  # refused while the service runs (exit 75)
    lock.acquire(host=host_name(config), now=time.time())
    try:
        inputs = [(rule.name, entry.path) for rule in config.rules for entry in candidates(rule)]
        where = (config.store.url and "the shared PostgreSQL store") or str(state_db_path(config))
        seen = "rendered (and paid) again" if render_existing else "taken as seen, not rendered"
        question = (
            f"Start a new job store for {config.state_dir} ({where}); the old files are kept "
            f"beside it. {len(inputs)} input(s) now in the watch folders will be {seen}."
        )
        if not confirmed(question, yes=yes):
            print("nothing was changed")
            return 1
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        kept = _set_aside(config, stamp)
        db = open_backend(config)  # a new SQLite file (or the shared store) and its id
        try:
            store_id = db_store_id(db)
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
    return 0


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
