"""PostgreSQL for the tests (issue 8): a real server.

``$VIGGLE_TEST_PG_URL`` names one (``.ci/run`` starts one and sets it); else the session starts
a throwaway cluster (``tests/support/pgserver.py``); else the PostgreSQL tests skip, saying why.
``VIGGLE_TEST_PG=off`` skips them outright. psycopg is imported only where it is needed: without
it, the tests that need a server skip.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.support import pgserver

PG_URL_ENV = "VIGGLE_TEST_PG_URL"
PG_SKIP = "PostgreSQL tests skipped"
PG_HINT = f"set {PG_URL_ENV} to a server's URL, or install postgresql (initdb)"
PSYCOPG_HINT = "pip install 'psycopg[binary]>=3.1,<4' (the project's test or postgres extra)"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session (its ``postgres`` database).

    ``$VIGGLE_TEST_PG_URL`` if set; else a throwaway cluster started now and stopped at the end
    of the session; else every test that needs it skips, saying why.
    """
    if os.environ.get("VIGGLE_TEST_PG", "").lower() in ("off", "0", "no", "false"):
        pytest.skip(f"{PG_SKIP}: VIGGLE_TEST_PG=off")
    try:
        import psycopg  # noqa: F401  (only: is it there?)
    except ImportError as e:
        pytest.skip(f"{PG_SKIP}: psycopg is not importable ({e}); {PSYCOPG_HINT}")
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield url
        return
    cluster = pgserver.temp_cluster()
    try:
        url = cluster.start()
    except (pgserver.PgUnavailableError, OSError, subprocess.SubprocessError) as e:
        cluster.stop()
        pytest.skip(f"{PG_SKIP}: cannot start a server: {e}; {PG_HINT}")
    try:
        yield url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a fresh, empty database of this test's own (same server), dropped after it."""
    with pgserver.fresh_database(pg_server_url) as url:
        yield url
