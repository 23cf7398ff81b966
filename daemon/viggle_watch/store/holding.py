"""Whether a job is still this host's to write for (issue 19 §1; docs/scaling-out.md).

A host can be paused (SIGSTOP, a frozen VM, a long GC) longer than its lease, and wake up in
the middle of a job another host has taken over and finished. Before anything it writes
outside its own part files — a field of the job, a deliverable, the video, the mask, the
sidecar — it proves the job is still its own: the job is in the state it is working in and,
on a shared store, this host is its ``owner``. On a shared store the final placement and the
state change that ends the job run inside one transaction that holds the job's row lock
(``SELECT … FOR UPDATE``): a take-over (``FOR UPDATE SKIP LOCKED``) cannot take the job in
between, so what is placed and the state the store records agree.

The verdict reads no clock. A take-over always writes the new ``owner``, under the row lock,
so owner and state read under that lock are exact; the lease only tells *other* hosts when
they may take a job. A host whose lease ran out while nobody took its job still holds it, and
finishes it (its heartbeat renews the lease). So no host compares its clock with another's
here: a clock that runs ahead or behind changes when a take-over happens, never whether a
host that lost a job notices it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from viggle_watch.errors import JobLostError, StoreError
from viggle_watch.store.backend import Backend, Conn
from viggle_watch.store.records import _SETTABLE
from viggle_watch.store.states import State


@dataclass(frozen=True, slots=True)
class Found:
    """What the store says of a job now: its state and the host holding it."""

    state: State
    owner: str | None


def lost_reason(found: Found | None, *, state: State, host: str, shared: bool) -> str | None:
    """Pure: None while the job (``found``, None when it is gone) is still ``host``'s to act
    on in ``state``; else why not, in words. On one host (``shared`` False) the owner column
    says nothing: every job is this host's, and only its state can move under it (a person's
    ``jobs cancel``)."""
    if found is None:
        return "it is gone from the store"
    if shared and found.owner != host:
        return f"host {found.owner} holds it now" if found.owner else "no host holds it now"
    if found.state != state:
        return f"it is {found.state} now, no longer {state}"
    return None


class Holds:
    """The proofs, against the store: a read, a placement under the row lock, an update that
    holds only for the owner."""

    def __init__(self, db: Backend) -> None:
        self._db = db
        self.host = db.host

    def check(self, job_id: int, state: State) -> None:
        """Raise ``JobLostError`` unless the job is still this host's, in ``state`` (a plain
        read: enough before work that only writes this host's own part files)."""
        with self._db.read() as conn:
            self._judge(conn, job_id, state, lock="")

    @contextmanager
    def placing(self, job_id: int, state: State) -> Iterator[None]:
        """The block that places a job's files in its output folder and ends the job.

        On a shared store: one transaction holding the job's row lock, opened only if the
        job is still this host's (else ``JobLostError``, nothing placed). The block's own
        store writes (its state change) join the transaction, and any error rolls them back.
        Keep it short — renames, checks, one sidecar — never encoding. On one host: the same
        check, then the block as before (SQLite has one writer; a lock would stall it)."""
        if not self._db.shared:
            self.check(job_id, state)
            yield
            return
        with self._db.write() as conn:
            self._judge(conn, job_id, state, lock=" FOR UPDATE")
            yield

    def update(self, job_id: int, state: State, **fields: object) -> None:
        """Set ``fields`` of a job this host holds in ``state``; ``JobLostError`` (nothing
        written) when it does not hold it any more."""
        unknown = set(fields) - _SETTABLE
        if unknown or not fields:
            raise StoreError(f"cannot update {sorted(unknown) or 'nothing'}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        mine = " AND owner = ?" if self._db.shared else ""
        params = (*fields.values(), job_id, state, *((self.host,) if mine else ()))
        with self._db.write() as conn:
            sql = f"UPDATE jobs SET {sets} WHERE id = ? AND state = ?{mine}"  # noqa: S608
            if conn.execute(sql, params).rowcount == 1:
                return
            self._judge(conn, job_id, state, lock="")
            raise JobLostError(job_id, "it changed meanwhile")  # not seen: moved and back

    def note(self, job_id: int, state: State, detail: str, *, at: float) -> None:
        """An event in the history of a job this host holds in ``state`` (no state change);
        ``JobLostError`` (nothing written) when it does not hold it any more."""
        with self._db.write() as conn:
            self._judge(conn, job_id, state, lock=" FOR UPDATE" if self._db.shared else "")
            conn.execute(
                "INSERT INTO job_events (job_id, at, from_state, to_state, detail, host)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, at, state, state, detail, self.host),
            )

    def lost(self, job_id: int, state: State) -> JobLostError:
        """Why a write guarded by owner and state (a ``mine`` transition) found nothing to
        write: the error to stop the job with."""
        try:
            self.check(job_id, state)
        except JobLostError as exc:
            return exc
        return JobLostError(job_id, "it changed meanwhile")  # not seen: moved and back

    def _judge(self, conn: Conn, job_id: int, state: State, *, lock: str) -> None:
        row = conn.execute(
            f"SELECT state, owner FROM jobs WHERE id = ?{lock}",  # noqa: S608 (a constant)
            (job_id,),
        ).fetchone()
        found = Found(State(row[0]), row[1]) if row is not None else None
        why = lost_reason(found, state=state, host=self.host, shared=self._db.shared)
        if why is not None:
            holder = found.owner if found is not None and self._db.shared else None
            raise JobLostError(job_id, why, holder=holder)
