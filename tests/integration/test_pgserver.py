"""The PostgreSQL test harness: ``pg_url`` is a real, empty database of each test's own.

psycopg is imported inside the tests: without it, the fixtures skip them, saying why.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

SEEN: list[str] = []  # the databases the rounds below were given, in order


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def test_a_table_round_trips_a_row(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,), "a fresh database is empty"
        conn.execute("CREATE TABLE jobs (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO jobs (name) VALUES (%s)", ("alice.png",))
        conn.commit()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT id, name FROM jobs").fetchall() == [(1, "alice.png")]
        assert conn.execute("SELECT current_database()").fetchone() == (_database(pg_url),)


@pytest.mark.parametrize("round_", [1, 2])
def test_each_use_gets_a_database_of_its_own(round_: int, pg_url: str, pg_server_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        # the same name each round: it fails if a round were handed the other's database
        conn.execute("CREATE TABLE marker (round int NOT NULL)")
        conn.execute("INSERT INTO marker VALUES (%s)", (round_,))
        conn.commit()
    SEEN.append(_database(pg_url))
    assert len(set(SEEN)) == len(SEEN), f"a database was handed out twice: {SEEN}"
    with psycopg.connect(pg_server_url) as admin:
        names = {row[0] for row in admin.execute("SELECT datname FROM pg_database")}
    assert _database(pg_url) in names
    assert not names & set(SEEN[:-1]), "an earlier test's database was not dropped"
