"""Open the store a config names: SQLite in ``state_dir``, or a shared PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from viggle_watch.config import Config
from viggle_watch.store.backend import Backend
from viggle_watch.store.sqlite import Database, default_host

STATE_DB: Final = "state.db"


def state_db_path(config: Config) -> Path:
    return config.state_dir / STATE_DB


def host_name(config: Config) -> str:
    return config.store.host or default_host()


def open_backend(config: Config, *, readonly: bool = False) -> Backend:
    """The config's store; ``readonly`` for commands that only look (never migrates)."""
    host = host_name(config)
    if config.store.url:
        from viggle_watch.store.postgres import PostgresDatabase  # psycopg: an optional extra

        return PostgresDatabase.open(config.store.url, host=host, readonly=readonly)
    return Database.open(state_db_path(config), readonly=readonly, host=host)


def store_exists(config: Config) -> bool:
    """Whether a store could be opened read-only (PostgreSQL: assume so; it says if not)."""
    return bool(config.store.url) or state_db_path(config).exists()
