"""Open the store a config names: SQLite in ``state_dir``, or a shared PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from viggle_watch.config import Config
from viggle_watch.store.backend import Backend
from viggle_watch.store.identity import refuse_a_lost_file, settle_identity
from viggle_watch.store.sqlite import Database, default_host

STATE_DB: Final = "state.db"


def state_db_path(config: Config) -> Path:
    return config.state_dir / STATE_DB


def host_name(config: Config) -> str:
    return config.store.host or default_host()


def open_backend(config: Config, *, readonly: bool = False) -> Backend:
    """The config's store; ``readonly`` for commands that only look (never migrates). A
    writer also proves it is the store the state directory last used (``store.identity``)."""
    host = host_name(config)
    db: Backend
    if config.store.url:
        from viggle_watch.store.postgres import PostgresDatabase  # psycopg: an optional extra

        db = PostgresDatabase.open(config.store.url, host=host, readonly=readonly)
    else:
        if not readonly:
            refuse_a_lost_file(config.state_dir, state_db_path(config))
        db = Database.open(state_db_path(config), readonly=readonly, host=host)
    if not readonly:
        try:
            settle_identity(db, config.state_dir, db.describe())
        except BaseException:
            db.close()
            raise
    return db


def store_exists(config: Config) -> bool:
    """Whether a store could be opened read-only (PostgreSQL: assume so; it says if not)."""
    return bool(config.store.url) or state_db_path(config).exists()
