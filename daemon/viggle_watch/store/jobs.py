"""Jobs: enqueue with dedup, one compare-and-set transition per state change (what happens
when a holder stops: ``store.leases``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

from viggle_watch.errors import BudgetExceededError, InFlightLimitError, StoreError, TransitionError
from viggle_watch.store.backend import Backend
from viggle_watch.store.records import _SETTABLE, Event, Job, Spend, insert_spend, job_of
from viggle_watch.store.spec import InputRef, JobSpec
from viggle_watch.store.states import IN_FLIGHT, State, allowed

__all__ = ["Event", "InputRef", "Job", "JobSpec", "JobStore", "Spend"]
DEFAULT_LEASE_S = 60.0


class JobStore:
    """The queue. Every method is one short transaction; the database is the only shared state."""

    def __init__(self, db: Backend, *, lease_s: float = DEFAULT_LEASE_S) -> None:
        self._db = db
        self.host = db.host
        self.lease_s = lease_s
        self._moved: list[Callable[[Job], None]] = []

    def on_moved(self, listener: Callable[[Job], None]) -> None:
        """Call ``listener`` with the job after each state change this store commits — once
        the outermost transaction has committed, never for one rolled back (the one place
        the service learns that a job became done, failed, uncertain…: its events)."""
        self._moved.append(listener)

    def enqueue(
        self,
        spec: JobSpec,
        *,
        dedup_key: str,
        source_path: str,
        at: float,
        sources: tuple[str, ...] = (),
        priority: int = 0,
        note: str = "",
    ) -> int | None:
        """Insert a queued job; None when a job with the same dedup key exists already."""
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM jobs WHERE dedup_key = ?", (dedup_key,)).fetchone():
                return None  # checked first so that duplicates do not use up job ids
            row = conn.execute(
                "INSERT INTO jobs (rule, state, dedup_key, source_path, request_json, model,"
                " mode, priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                (
                    spec.rule,
                    State.QUEUED,
                    dedup_key,
                    source_path,
                    spec.to_json(),
                    spec.model,
                    spec.mode,
                    priority,
                    at,
                    at,
                ),
            ).fetchone()
            if row is None:  # another host enqueued it between our check and our insert
                return None
            job_id = int(row[0])
            for path in dict.fromkeys((source_path, *sources)):
                conn.execute(
                    "INSERT INTO job_sources (job_id, path) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (job_id, path),
                )
            conn.execute(
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail, host)"
                " VALUES (?, ?, NULL, ?, ?, ?)",
                (
                    job_id,
                    at,
                    State.QUEUED,
                    f"from {source_path}" + (f"; {note}" if note else ""),
                    self.host,
                ),
            )
            return job_id

    @property
    def batchable(self) -> bool:
        """Whether batching writes is wise: on one host (a shared store's other hosts would
        wait on the batch's row locks)."""
        return not self._db.shared

    def batch(self) -> AbstractContextManager[None]:
        """Several enqueues (and other writes) committed together: one fsync for many jobs."""
        return self._db.batch()

    def relocate_source(self, job_id: int, old: str, new: str) -> None:
        """The job's input was found elsewhere (filed in failed/ and retried): its ending files
        it from there."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE job_sources SET path = ? WHERE job_id = ? AND path = ?",
                (new, job_id, old),
            )

    def by_dedup_key(self, key: str) -> Job | None:
        """The job made for this render already (whatever its state), or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE dedup_key = ?", (key,)).fetchone()
        return None if row is None else job_of(row)

    def sources(self, job_id: int) -> list[str]:
        """Every dropped file or folder the job was made from."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT path FROM job_sources WHERE job_id = ? ORDER BY path", (job_id,)
            ).fetchall()
        return [r[0] for r in rows]

    def remember_seen(
        self, rule: str, path: str, size: int, mtime_ns: int, sha256: str, at: float
    ) -> None:
        """An input left in place (``inputs: leave``) was handled; do not hash it again."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO seen_files (rule, path, size, mtime_ns, sha256, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (rule, path) DO UPDATE SET"
                " size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " sha256 = excluded.sha256, at = excluded.at",
                (rule, path, size, mtime_ns, sha256, at),
            )

    def seen(self, rule: str, path: str, size: int, mtime_ns: int) -> bool:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM seen_files WHERE rule = ? AND path = ? AND size = ?"
                " AND mtime_ns = ?",
                (rule, path, size, mtime_ns),
            ).fetchone()
        return row is not None

    def transition(
        self,
        job_id: int,
        src: State,
        dst: State,
        *,
        at: float,
        detail: str = "",
        spend: Spend | None = None,
        refund: bool = False,
        daily_cap: float | None = None,
        max_in_flight: int | None = None,
        mine: bool = False,
        **fields: object,
    ) -> Job:
        """Move ``job_id`` from ``src`` to ``dst`` (compare-and-set) and log it; return the job.

        ``spend`` records credits committed by this step (the intent of a paid call) and
        ``refund`` removes the job's render spending (not sent, failed or cancelled at Viggle),
        both in the same transaction as the state change. With ``daily_cap``, the spend is
        checked against the credits every host has committed that day under one lock, and
        ``BudgetExceededError`` leaves the job as it was. With ``max_in_flight``, the renders
        at Viggle (every host's) are counted under the same lock, and ``InFlightLimitError``
        leaves the job as it was. With ``mine`` (a paid step), on a shared store the job must
        still be held by this host: one whose lease ran out may not act on it any more.
        """
        if not allowed(src, dst):
            raise StoreError(f"transition {src} → {dst} is not allowed")
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise StoreError(f"cannot set {sorted(unknown)} in a transition")
        sets = ", ".join(f"{k} = ?" for k in fields)
        sql = f"UPDATE jobs SET state = ?, updated_at = ?{', ' if sets else ''}{sets}"  # noqa: S608
        with self._db.write() as conn:
            held = mine and self._db.shared
            cur = conn.execute(
                sql + " WHERE id = ? AND state = ?" + (" AND owner = ?" if held else ""),
                (dst, at, *fields.values(), job_id, src, *((self.host,) if held else ())),
            )
            if cur.rowcount != 1:
                raise TransitionError(f"job {job_id} is not {src} (wanted → {dst})")
            if max_in_flight is not None or (spend is not None and daily_cap is not None):
                self._db.lock_budget(conn)
                _check_limits(conn, spend, daily_cap, max_in_flight)
            conn.execute(  # the host: the others' event streams tell it (store.moves)
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail, host)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, at, src, dst, detail, self.host),
            )
            if refund:  # only the attempt being refunded: earlier ones may have been charged
                conn.execute(
                    "DELETE FROM spend WHERE id = (SELECT MAX(id) FROM spend"
                    " WHERE job_id = ? AND kind = 'render')",
                    (job_id,),
                )
            if spend is not None:
                insert_spend(conn, job_id, spend, at)
            moved = job_of(conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
            for listener in self._moved:  # after the outermost commit (store.aftercommit)
                self._db.after_commit(partial(listener, moved))
        return moved

    def note(self, job_id: int, detail: str, *, at: float) -> None:
        """An event in the job's history without a state change (e.g. a hook's outcome)."""
        with self._db.write() as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            conn.execute(
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail, host)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, at, row[0], row[0], detail, self.host),
            )

    def record_spend(self, job_id: int | None, spend: Spend, at: float) -> None:
        """Credits committed outside a job transition (a character's preprocess intent)."""
        with self._db.write() as conn:
            insert_spend(conn, job_id, spend, at)

    def spent_on(self, day: str) -> float:
        """Credits committed on the UTC ``day`` (YYYY-MM-DD)."""
        with self._db.read() as conn:
            return _spent(conn, day)

    def update(self, job_id: int, state: State, **fields: object) -> bool:
        """Set fields (progress, next poll) without a state change if the job is still ``state``."""
        unknown = set(fields) - _SETTABLE
        if unknown or not fields:
            raise StoreError(f"cannot update {sorted(unknown) or 'nothing'}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._db.write() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {sets} WHERE id = ? AND state = ?",  # noqa: S608
                (*fields.values(), job_id, state),
            )
            return cur.rowcount == 1

    def get(self, job_id: int) -> Job | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return job_of(row) if row else None

    def due(self, state: State, now: float, limit: int = 100) -> list[Job]:
        """Claim the jobs in ``state`` whose ``next_attempt_at`` has come, best first.

        On a shared store only unheld jobs and this host's own are claimed: what a silent
        host held comes free through ``reap`` and ``HostStore.take_over`` (which note it in
        the job's history), never here. On one host every due job is this host's.
        """
        inner = (
            "SELECT id FROM jobs WHERE state = ? AND next_attempt_at <= ?"
            " AND (owner IS NULL OR owner = ? OR ? = 0)"
            " ORDER BY priority DESC, next_attempt_at, id LIMIT ?"
        )
        # skip_locked is the backend's own constant, never input
        sql = f"UPDATE jobs SET owner = ?, lease_until = ? WHERE id IN ({inner}{self._db.skip_locked}) RETURNING *"  # noqa: S608, E501
        shared = 1 if self._db.shared else 0
        params = (self.host, now + self.lease_s, state, now, self.host, shared, limit)
        with self._db.read() as conn:  # nothing due (the usual idle case): no write at all
            if not conn.execute(f"SELECT EXISTS ({inner})", params[2:]).fetchone()[0]:
                return []
        with self._db.write() as conn:
            rows = conn.execute(sql, params).fetchall()
        rows.sort(key=lambda r: (-int(r["priority"]), float(r["next_attempt_at"]), int(r["id"])))
        return [job_of(r) for r in rows]

    def latest(
        self, *, state: State | None = None, rule: str | None = None, limit: int = 50
    ) -> list[Job]:
        """The newest jobs first, optionally of one state and/or rule."""
        where, params = ["1 = 1"], []
        if state is not None:
            where.append("state = ?")
            params.append(str(state))
        if rule is not None:
            where.append("rule = ?")
            params.append(rule)
        sql = f"SELECT * FROM jobs WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"  # noqa: S608
        with self._db.read() as conn:
            rows = conn.execute(sql, (*params, limit)).fetchall()
        return [job_of(r) for r in rows]

    def counts(self) -> dict[State, int]:
        """How many jobs are in each state; every state is present."""
        with self._db.read() as conn:
            rows = conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        found = {State(r[0]): int(r[1]) for r in rows}
        return {s: found.get(s, 0) for s in State}

    def count_in(self, states: frozenset[State]) -> int:
        marks = ",".join("?" for _ in states)
        with self._db.read() as conn:
            row = conn.execute(
                f"SELECT COUNT(*) FROM jobs WHERE state IN ({marks})",  # noqa: S608
                tuple(states),
            ).fetchone()
        return int(row[0])

    def source_states(self, source_path: str) -> list[State]:
        """The states of every job made from the file at ``source_path``."""
        return [job.state for job in self.source_jobs(source_path)]

    def source_jobs(self, source_path: str) -> list[Job]:
        """Every job made from the file at ``source_path``."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT j.* FROM jobs j JOIN job_sources s ON s.job_id = j.id WHERE s.path = ?"
                " ORDER BY j.id",
                (source_path,),
            ).fetchall()
        return [job_of(r) for r in rows]

    def events(self, job_id: int) -> list[Event]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT at, from_state, to_state, detail FROM job_events WHERE job_id = ?"
                " ORDER BY id",
                (job_id,),
            ).fetchall()
        return [Event(r[0], State(r[1]) if r[1] else None, State(r[2]), r[3]) for r in rows]

    def heartbeat(self, now: float) -> int:
        """Extend this host's leases on the jobs it holds; return how many."""
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_until = ? WHERE owner = ? AND state IN (?, ?, ?, ?)",
                (
                    now + self.lease_s,
                    self.host,
                    State.PREPARING,
                    State.SUBMITTING,
                    State.RENDERING,
                    State.DOWNLOADING,
                ),
            )
            return cur.rowcount

    def holders(self) -> dict[int, str]:
        """Which host holds each unfinished job (for ``status`` on a shared store)."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT id, owner FROM jobs WHERE owner IS NOT NULL AND state IN (?, ?, ?, ?)",
                (State.PREPARING, State.SUBMITTING, State.RENDERING, State.DOWNLOADING),
            ).fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    def rebase_polls(self, now: float) -> int:
        """The wall clock went back: renders polled "in the future" keep their schedule's own
        interval from ``now``, so no due poll waits for the clock to catch up. Returns how many."""
        last = "COALESCE(polled_at, render_started_at)"
        with self._db.read() as conn:
            if not conn.execute(
                f"SELECT 1 FROM jobs WHERE state = ? AND {last} > ? LIMIT 1",  # noqa: S608
                (State.RENDERING, now),
            ).fetchone():
                return 0
        with self._db.write() as conn:
            return conn.execute(
                f"UPDATE jobs SET next_attempt_at = ? + (next_attempt_at - {last}),"  # noqa: S608
                f" polled_at = ? WHERE state = ? AND {last} > ?",
                (now, now, State.RENDERING, now),
            ).rowcount

    def forget_balances(self, *, but: int = 0) -> None:
        """A paid request starts: no balance read before it tells one render's cost now."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE jobs SET balance_before = NULL"
                " WHERE balance_before IS NOT NULL AND id <> ?",
                (but,),
            )


def _spent(conn: Any, day: str) -> float:
    row = conn.execute(
        "SELECT COALESCE(SUM(credits), 0) FROM spend WHERE day = ?", (day,)
    ).fetchone()
    return float(row[0])


def _check_limits(
    conn: Any, spend: Spend | None, daily_cap: float | None, max_in_flight: int | None
) -> None:
    """Under the budget lock: the day's credits and the renders in flight, across hosts."""
    if spend is not None and daily_cap is not None:
        spent = _spent(conn, spend.day)
        if spent + spend.credits > daily_cap + 1e-9:
            raise BudgetExceededError(spent, daily_cap, spend.credits)
    if max_in_flight is not None:
        marks = ", ".join("?" for _ in IN_FLIGHT)
        row = conn.execute(
            f"SELECT COUNT(*) FROM jobs WHERE state IN ({marks})",  # noqa: S608
            tuple(IN_FLIGHT),
        ).fetchone()
        if int(row[0]) > max_in_flight:  # the job itself is counted: it is submitting now
            raise InFlightLimitError(max_in_flight)
