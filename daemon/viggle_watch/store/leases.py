"""Who holds each unfinished job, and what happens when its holder stops: a lost intent becomes
``uncertain``, half-prepared work is queued again, and on a shared store the leases that say a
host is still at work (docs/reliability.md §2.5, §7)."""

from __future__ import annotations

from viggle_watch.errors import TransitionError
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.records import job_of
from viggle_watch.store.states import State


class Leases:
    def __init__(self, db: Backend, store: JobStore) -> None:
        self._db, self._store = db, store

    def recover(self, at: float, *, everyone: bool | None = None) -> list[int]:
        """A lost intent becomes ``uncertain``; half-prepared work is queued again. Lost: at
        start-up this host's own rows; on a shared store, also those whose holder's lease ran
        out. A job left in ``submitting`` may or may not have reached Viggle (docs/reliability.md
        §2.5): never resubmitted automatically. Returns the ids made uncertain."""
        everyone = not self._db.shared if everyone is None else everyone
        lost = self._lost(State.SUBMITTING, at, everyone) + self._lost(
            State.PREPARING, at, everyone
        )
        return self._give_up(lost, at)

    def _give_up(self, jobs: list[Job], at: float) -> list[int]:
        """Jobs whose holder stopped: submitting → uncertain, preparing → queued again."""
        uncertain: list[int] = []
        for job in jobs:
            holder = (
                f"host {job.owner}" if job.owner and job.owner != self._store.host else "service"
            )
            dst = State.UNCERTAIN if job.state == State.SUBMITTING else State.QUEUED
            what = "submitting; outcome unknown" if dst == State.UNCERTAIN else "preparing"
            detail = f"{holder} stopped while {what}"
            try:
                if dst == State.QUEUED:  # free for any host again
                    self._store.transition(job.id, job.state, dst, at=at, detail=detail, owner=None)
                else:  # uncertain: who held it stays on record
                    self._store.transition(job.id, job.state, dst, at=at, detail=detail)
            except TransitionError:
                continue  # its host came back and moved it on
            if dst == State.UNCERTAIN:
                uncertain.append(job.id)
        return uncertain

    def _lost(self, state: State, at: float, everyone: bool) -> list[Job]:
        if everyone:
            return self._store.latest(state=state, limit=10_000)
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE state = ? AND (owner IS NULL OR owner = ?"
                " OR lease_until < ?) ORDER BY id",
                (state, self._store.host, at),
            ).fetchall()
        return [job_of(r) for r in rows]

    def reap(self, at: float) -> list[int]:
        """On a shared store: take over what silent hosts held (never this host's own)."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs WHERE state IN (?, ?) AND owner IS NOT NULL AND owner <> ?"
                " AND lease_until < ? ORDER BY id",
                (State.SUBMITTING, State.PREPARING, self._store.host, at),
            ).fetchall()
        return self._give_up([job_of(r) for r in rows], at)
