"""What hosts sharing one store agree on: who is alive, who handles which input, the API rate.

On one host (SQLite) these are trivially this host's; on PostgreSQL they make several
services one: a settled input is claimed by exactly one host (only that host moves it), and
the API request rate is one token bucket in the database (docs/reliability.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viggle_watch.store.backend import Backend
from viggle_watch.store.states import State


@dataclass(frozen=True, slots=True)
class Host:
    name: str
    instance: str
    pid: int
    started_at: float
    seen_at: float
    machine: str = ""  # the pid space it runs in (app.naming); "" before schema 8
    node: str = ""  # the machine's host name
    conflict: str = ""  # the last time two processes wanted this name, in words
    conflict_at: float = 0.0


class HostStore:
    def __init__(self, db: Backend) -> None:
        self._db = db
        self.host = db.host

    def register(self, *, instance: str, pid: int, now: float) -> Host | None:
        """Say this host is up; return the previous holder of its name if still alive-looking."""
        with self._db.write() as conn:
            row = conn.execute("SELECT * FROM hosts WHERE name = ?", (self.host,)).fetchone()
            conn.execute(
                "INSERT INTO hosts (name, instance, pid, started_at, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " instance = excluded.instance, pid = excluded.pid,"
                " started_at = excluded.started_at, seen_at = excluded.seen_at",
                (self.host, instance, pid, now, now),
            )
        return _host(row) if row is not None else None

    def seen(self, now: float, *, instance: str | None = None) -> bool:
        """The heartbeat; with ``instance``, only while that process still holds the name
        (False: another process took it, app.naming)."""
        sql, args = "UPDATE hosts SET seen_at = ? WHERE name = ?", (now, self.host)
        with self._db.write() as conn:
            if instance is None:
                return conn.execute(sql, args).rowcount > 0
            return conn.execute(sql + " AND instance = ?", (*args, instance)).rowcount > 0

    def take_over(self, now: float, *, lease_s: float) -> list[tuple[int, str]]:
        """Hold the rendering and downloading jobs of hosts whose lease ran out (polling and
        downloading are safe to repeat); note it in each job's history. Returns (job, host)."""
        active = (State.RENDERING, State.DOWNLOADING)
        sql = (
            "SELECT id, owner, state FROM jobs WHERE state IN (?, ?) AND owner IS NOT NULL"
            " AND owner <> ? AND lease_until < ? ORDER BY id"
        )
        with self._db.write() as conn:
            # skip_locked is the backend's own constant, never input
            found = conn.execute(sql + self._db.skip_locked, (*active, self.host, now))
            rows = found.fetchall()
            for job_id, owner, state in rows:
                conn.execute(
                    "UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ?",
                    (self.host, now + lease_s, job_id),
                )
                conn.execute(
                    "INSERT INTO job_events (job_id, at, from_state, to_state, detail, host)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        job_id,
                        now,
                        state,
                        state,
                        f"taken over from host {owner} by {self.host}",
                        self.host,
                    ),
                )
            # their queued / waiting jobs: free for any host (nothing was under way)
            conn.execute(
                "UPDATE jobs SET owner = NULL WHERE state IN (?, ?) AND owner IS NOT NULL"
                " AND owner <> ? AND lease_until < ?",
                (State.QUEUED, State.WAITING_BUDGET, self.host, now),
            )
        return [(int(r[0]), str(r[1])) for r in rows]

    def stopped(self, now: float, *, instance: str | None = None) -> None:
        """A clean stop: this host's jobs may be taken over at once (no lease to wait out).
        With ``instance``: only while that process still holds the name (else nothing)."""
        with self._db.write() as conn:
            if instance is not None and not self._holds(conn, instance):
                return  # another process took the name: its jobs are not ours to release
            # its ticks have finished (a drained stop): what it held is free for any host ...
            conn.execute(
                "UPDATE jobs SET owner = NULL WHERE owner = ? AND state IN (?, ?, ?, ?, ?)",
                (
                    self.host,
                    State.QUEUED,
                    State.WAITING_BUDGET,
                    State.PREPARING,
                    State.RENDERING,
                    State.DOWNLOADING,
                ),
            )
            # ... but a submission whose answer never came is reaped (uncertain), as always
            conn.execute(
                "UPDATE jobs SET lease_until = 0 WHERE owner = ? AND state = ?",
                (self.host, State.SUBMITTING),
            )
            conn.execute("UPDATE hosts SET pid = 0, seen_at = ? WHERE name = ?", (now, self.host))

    def _holds(self, conn: Any, instance: str) -> bool:
        """Whether process ``instance`` holds this name (the row locked until the commit)."""
        sql = "SELECT 1 FROM hosts WHERE name = ? AND instance = ?"
        # skip_locked is the backend's own constant, never input
        return (
            conn.execute(sql + self._db.skip_locked, (self.host, instance)).fetchone() is not None
        )

    def hosts(self) -> list[Host]:
        with self._db.read() as conn:
            rows = conn.execute("SELECT * FROM hosts ORDER BY name").fetchall()
        return [_host(r) for r in rows]

    def claim_input(
        self, path: str, size: int, mtime_ns: int, *, now: float, alive_s: float, ttl_s: float
    ) -> bool:
        """True when this host may handle the settled file ``path`` (size, mtime) now.

        The first host to claim a path holds it; another host gets it only once the file
        changed (new size or mtime), its holder has not been seen for ``alive_s`` (it died),
        or the claim is older than ``ttl_s`` (the same file dropped again much later).
        """
        with self._db.write() as conn:
            row = conn.execute(
                "INSERT INTO input_claims (path, size, mtime_ns, host, at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, host = excluded.host, at = excluded.at"
                " WHERE input_claims.host = excluded.host OR input_claims.size <> excluded.size"
                " OR input_claims.mtime_ns <> excluded.mtime_ns OR input_claims.at < ?"
                " OR input_claims.host NOT IN (SELECT name FROM hosts WHERE seen_at >= ?"
                " AND pid <> 0)"
                " RETURNING host",
                (path, size, mtime_ns, self.host, now, now - ttl_s, now - alive_s),
            ).fetchone()
        return row is not None

    def take_token(self, name: str, *, rate_per_s: float, burst: float, now: float) -> float:
        """A shared token bucket: take one token; return how long to wait before sending."""
        with self._db.write() as conn:
            self._db.lock_budget(conn)  # the same short lock: one bucket update at a time
            row = conn.execute(
                "SELECT tokens, at FROM rate_buckets WHERE name = ?", (name,)
            ).fetchone()
            tokens, at = (burst, now) if row is None else (float(row[0]), float(row[1]))
            tokens = min(burst, tokens + max(0.0, now - at) * rate_per_s) - 1.0
            conn.execute(
                "INSERT INTO rate_buckets (name, tokens, at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
                (name, tokens, max(now, at)),
            )
        return 0.0 if tokens >= 0 else -tokens / rate_per_s


def _host(r: Any) -> Host:
    return Host(
        str(r["name"]),
        str(r["instance"]),
        int(r["pid"]),
        float(r["started_at"]),
        float(r["seen_at"]),
        str(r["machine"]),
        str(r["node"]),
        str(r["conflict"]),
        float(r["conflict_at"]),
    )
