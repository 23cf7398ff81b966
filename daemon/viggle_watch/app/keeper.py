"""Start-up recovery, and on a shared store the leases: what a host does so that no job is lost
when it (or another host) stops, and none is paid twice (docs/reliability.md §2.5, §7)."""

from __future__ import annotations

from typing import Final

import structlog

from viggle_watch.app.clients import CLAIM_TTL_S
from viggle_watch.app.naming import (
    NameTakenError,
    Process,
    judge_name,
    lost_note,
    lost_words,
    pid_running,
    this_process,
)
from viggle_watch.errors import ViggleWatchError
from viggle_watch.store.assets import Asset, AssetStore
from viggle_watch.store.backend import Backend
from viggle_watch.store.claims import DeadClaims
from viggle_watch.store.hosts import Host, HostStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.leases import Leases
from viggle_watch.store.names import HostNames

log = structlog.get_logger()
TAKE_TRIES: Final = 3  # the name changed hands while we looked: look again, this often


class Keeper:
    def __init__(self, db: Backend, store: JobStore, assets: AssetStore, hosts: HostStore):
        self._db, self._store, self._assets, self._hosts = db, store, assets, hosts
        self._leases = Leases(db, store)
        self._names = HostNames(db)
        self.me: Process = this_process()
        self._held = False  # the name is this process's (shared store, after ``register``)
        self.lost: str | None = None  # why this process lost its name (it must stop)

    def recover(self, now: float) -> None:
        """At start-up: this host's lost intents become uncertain, its half-prepared work is
        queued again (on a shared store: also what silent hosts left)."""
        _uncertain(self._leases.recover(now), "the service stopped while submitting")
        _uncertain_assets(self._assets.recover(now))

    def register(self, now: float) -> None:
        """On a shared store, before anything is touched: hold this host's name as this
        process, or raise ``NameTakenError`` while another live process holds it."""
        if not self._db.shared:
            return
        for _ in range(TAKE_TRIES):
            found = self._names.holder()
            verdict = judge_name(
                found,
                self.me,
                now=now,
                lease_s=self._store.lease_s,
                pid_running_here=found is not None and pid_running(found.pid),
            )
            if verdict.note:
                self._names.note(verdict.note, now)
            if not verdict.start:
                log.error("host_name_refused", host=self._db.host, reason=verdict.words)
                raise NameTakenError(verdict.words)
            me = self.me
            replacing = None if found is None else found.instance
            if self._names.take(
                instance=me.instance,
                pid=me.pid,
                machine=me.machine,
                node=me.node,
                now=now,
                replacing=replacing,
            ):
                self._held = True
                if found is not None and found.pid != 0:
                    log.info("host_name_taken", host=self._db.host, reason=verdict.words)
                return
        raise NameTakenError(
            f"the store host name {self._db.host!r} changed hands while this service started; "
            "is another service starting under it?"
        )

    def holder(self) -> Host | None:
        """Who holds (or last held) this host's name in the store."""
        return self._names.holder() if self._db.shared else None

    def keep(self, now: float) -> list[str]:
        """Heartbeat this host's leases; take over what silent hosts held and let go of their
        input claims (returned: the claimed paths, to settle again). A process that finds its
        name taken sets ``lost`` and does nothing more."""
        if self.lost is not None:
            return []
        beat = self._hosts.seen(now, instance=self.me.instance if self._held else None)
        if self._held and not beat:
            self._lose(now)
            return []
        self._store.heartbeat(now)
        # first the assets (found through their jobs' silent holder), then those jobs
        _uncertain_assets(self._assets.recover(now, dead_only=True))
        _uncertain(self._leases.reap(now), "its host stopped while submitting")
        taken = self._hosts.take_over(now, lease_s=self._store.lease_s)
        for host in sorted({h for _, h in taken}):
            ids = [job_id for job_id, h in taken if h == host]
            log.warning("jobs_taken_over", from_host=host, jobs=ids, count=len(ids))
        freed = DeadClaims(self._db).release(now, alive_s=self._store.lease_s, ttl_s=CLAIM_TTL_S)
        for host, paths in freed.items():
            log.info("inputs_released", from_host=host, count=len(paths), paths=paths[:10])
        return [path for paths in freed.values() for path in paths]

    def _lose(self, now: float) -> None:
        found = self._names.holder()
        self.lost = lost_words(found, self.me, self._db.host)
        log.error("host_name_lost", host=self._db.host, reason=self.lost)
        try:
            self._names.note(lost_note(found, self.me), now)
        except ViggleWatchError as exc:  # said in the log already: the stop goes on
            log.warning("host_conflict_not_noted", reason=str(exc))

    def stopped(self, now: float) -> None:
        """A clean stop on a shared store: release this host's jobs and inputs at once."""
        if not self._db.shared:
            return
        if self.lost is not None:
            return  # the name (and every job held under it) is another process's now
        try:
            self._hosts.stopped(now, instance=self.me.instance if self._held else None)
        except ViggleWatchError as exc:
            log.warning("leases_not_released", reason=str(exc))


def _uncertain(job_ids: list[int], why: str) -> None:
    for job_id in job_ids:
        log.error(
            "job_uncertain",
            job_id=job_id,
            reason=f"{why}; outcome unknown",
            hint="check the Viggle dashboard, then `viggle-watch jobs resolve`",
        )


def _uncertain_assets(assets: list[Asset]) -> None:
    for asset in assets:
        log.error(
            "asset_uncertain",
            kind=str(asset.kind),
            job_id=asset.job_id,
            reason="the service stopped while creating it; outcome unknown",
        )
