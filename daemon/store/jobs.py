"""Jobs: enqueue with dedup, one compare-and-set transition per state change, recovery."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from daemon.errors import StoreError, TransitionError
from daemon.store.db import Database
from daemon.store.spec import InputRef, JobSpec

__all__ = ["Event", "InputRef", "Job", "JobSpec", "JobStore", "Spend"]
from daemon.store.states import IN_FLIGHT, State, allowed

# columns a transition may set besides the state (never interpolate anything else into SQL)
_SETTABLE: Final = frozenset(
    {
        "viggle_job_id",
        "progress_pct",
        "checkpoint",
        "result_url",
        "output_path",
        "output_sha256",
        "output_size",
        "error_code",
        "error_message",
        "attempts",
        "next_attempt_at",
        "estimate_credits",
        "assets_json",
        "mask_url",
        "mask_path",
        "mask_sha256",
        "mask_size",
        "render_started_at",
        "request_json",
        "source_path",
    }
)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    rule: str
    state: State
    dedup_key: str
    source_path: str
    spec: JobSpec
    viggle_job_id: str | None
    progress_pct: float | None
    checkpoint: str | None
    result_url: str | None
    output_path: str | None
    output_sha256: str | None
    output_size: int | None
    error_code: str | None
    error_message: str | None
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    estimate_credits: float
    assets: dict[str, Any]
    mask_url: str | None
    mask_path: str | None
    mask_sha256: str | None
    mask_size: int | None
    render_started_at: float | None


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    from_state: State | None
    to_state: State
    detail: str


@dataclass(frozen=True, slots=True)
class Spend:
    kind: str  # "render" | "character"
    credits: float
    day: str  # UTC YYYY-MM-DD


def _insert_spend(conn: Any, job_id: int | None, spend: Spend, at: float) -> None:
    conn.execute(
        "INSERT INTO spend (day, job_id, kind, credits, at) VALUES (?, ?, ?, ?, ?)",
        (spend.day, job_id, spend.kind, spend.credits, at),
    )


def _job(row: Any) -> Job:
    d = dict(row)
    d["state"] = State(d["state"])
    d["spec"] = JobSpec.from_json(d.pop("request_json"))
    d.pop("model")  # columns for queries; the spec carries them
    d.pop("mode")
    d.pop("priority")
    d["assets"] = json.loads(d.pop("assets_json") or "{}")
    return Job(**d)


class JobStore:
    """The queue. Every method is one short transaction; the database is the only shared state."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue(
        self,
        spec: JobSpec,
        *,
        dedup_key: str,
        source_path: str,
        at: float,
        sources: tuple[str, ...] = (),
        priority: int = 0,
    ) -> int | None:
        """Insert a queued job; None when a job with the same dedup key exists already."""
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM jobs WHERE dedup_key = ?", (dedup_key,)).fetchone():
                return None  # checked first so that duplicates do not use up job ids
            cur = conn.execute(
                "INSERT INTO jobs (rule, state, dedup_key, source_path, request_json, model,"
                " mode, priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (dedup_key) DO NOTHING",
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
            )
            if cur.rowcount == 0:
                return None
            job_id = int(cur.lastrowid or 0)
            for path in dict.fromkeys((source_path, *sources)):
                conn.execute(
                    "INSERT OR IGNORE INTO job_sources (job_id, path) VALUES (?, ?)", (job_id, path)
                )
            conn.execute(
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail)"
                " VALUES (?, ?, NULL, ?, ?)",
                (job_id, at, State.QUEUED, f"from {source_path}"),
            )
            return job_id

    def has_dedup_key(self, key: str) -> bool:
        with self._db.read() as conn:
            row = conn.execute("SELECT 1 FROM jobs WHERE dedup_key = ?", (key,)).fetchone()
        return row is not None

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
                "INSERT OR REPLACE INTO seen_files (rule, path, size, mtime_ns, sha256, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
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
        **fields: object,
    ) -> Job:
        """Move ``job_id`` from ``src`` to ``dst`` (compare-and-set) and log it; return the job.

        ``spend`` records credits committed by this step (the intent of a paid call) and
        ``refund`` removes the job's render spending (not sent, failed or cancelled at Viggle),
        both in the same transaction as the state change.
        """
        if not allowed(src, dst):
            raise StoreError(f"transition {src} → {dst} is not allowed")
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise StoreError(f"cannot set {sorted(unknown)} in a transition")
        sets = ", ".join(f"{k} = ?" for k in fields)
        sql = f"UPDATE jobs SET state = ?, updated_at = ?{', ' if sets else ''}{sets}"  # noqa: S608
        with self._db.write() as conn:
            cur = conn.execute(
                sql + " WHERE id = ? AND state = ?",
                (dst, at, *fields.values(), job_id, src),
            )
            if cur.rowcount != 1:
                raise TransitionError(f"job {job_id} is not {src} (wanted → {dst})")
            conn.execute(
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (job_id, at, src, dst, detail),
            )
            if refund:  # only the attempt being refunded: earlier ones may have been charged
                conn.execute(
                    "DELETE FROM spend WHERE id = (SELECT MAX(id) FROM spend"
                    " WHERE job_id = ? AND kind = 'render')",
                    (job_id,),
                )
            if spend is not None:
                _insert_spend(conn, job_id, spend, at)
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row)

    def note(self, job_id: int, detail: str, *, at: float) -> None:
        """An event in the job's history without a state change (e.g. a hook's outcome)."""
        with self._db.write() as conn:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return
            conn.execute(
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail)"
                " VALUES (?, ?, ?, ?, ?)",
                (job_id, at, row[0], row[0], detail),
            )

    def record_spend(self, job_id: int | None, spend: Spend, at: float) -> None:
        """Credits committed outside a job transition (a character's preprocess intent)."""
        with self._db.write() as conn:
            _insert_spend(conn, job_id, spend, at)

    def spent_on(self, day: str) -> float:
        """Credits committed on the UTC ``day`` (YYYY-MM-DD)."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(credits), 0) FROM spend WHERE day = ?", (day,)
            ).fetchone()
        return float(row[0])

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
        return _job(row) if row else None

    def due(self, state: State, now: float, limit: int = 100) -> list[Job]:
        """Jobs in ``state`` whose ``next_attempt_at`` has come, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE state = ? AND next_attempt_at <= ?"
                " ORDER BY priority DESC, next_attempt_at, id LIMIT ?",
                (state, now, limit),
            ).fetchall()
        return [_job(r) for r in rows]

    def latest(
        self, *, state: State | None = None, rule: str | None = None, limit: int = 50
    ) -> list[Job]:
        """The newest jobs first, optionally of one state and/or rule."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR rule = ?2)"
                " ORDER BY id DESC LIMIT ?3",
                (state, rule, limit),
            ).fetchall()
        return [_job(r) for r in rows]

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
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT j.state FROM jobs j JOIN job_sources s ON s.job_id = j.id WHERE s.path = ?",
                (source_path,),
            ).fetchall()
        return [State(r[0]) for r in rows]

    def events(self, job_id: int) -> list[Event]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT at, from_state, to_state, detail FROM job_events WHERE job_id = ?"
                " ORDER BY id",
                (job_id,),
            ).fetchall()
        return [Event(r[0], State(r[1]) if r[1] else None, State(r[2]), r[3]) for r in rows]

    def recover(self, at: float) -> list[int]:
        """At start-up: a lost intent becomes ``uncertain``; half-prepared work is queued again.

        A job left in ``submitting`` may or may not have reached Viggle (RELIABILITY §2.5), so it
        is never resubmitted automatically. Returns the ids made uncertain.
        """
        uncertain: list[int] = []
        for job in self.latest(state=State.SUBMITTING, limit=10_000):
            self.transition(
                job.id,
                State.SUBMITTING,
                State.UNCERTAIN,
                at=at,
                detail="service stopped while submitting; outcome unknown",
            )
            uncertain.append(job.id)
        for job in self.latest(state=State.PREPARING, limit=10_000):
            self.transition(
                job.id,
                State.PREPARING,
                State.QUEUED,
                at=at,
                detail="service stopped while preparing",
            )
        return uncertain

    def in_flight(self) -> int:
        return self.count_in(IN_FLIGHT)
