"""Start-up recovery, and on a shared store the leases: what a host does so that no job is lost
when it (or another host) stops, and none is paid twice (docs/reliability.md §2.5, §7)."""

from __future__ import annotations

import os
import uuid

import structlog

from viggle_watch.errors import ViggleWatchError
from viggle_watch.store.assets import Asset, AssetStore
from viggle_watch.store.backend import Backend
from viggle_watch.store.hosts import HostStore
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.leases import Leases

log = structlog.get_logger()


class Keeper:
    def __init__(self, db: Backend, store: JobStore, assets: AssetStore, hosts: HostStore):
        self._db, self._store, self._assets, self._hosts = db, store, assets, hosts
        self._leases = Leases(db, store)

    def recover(self, now: float) -> None:
        """At start-up: this host's lost intents become uncertain, its half-prepared work is
        queued again (on a shared store: also what silent hosts left)."""
        if self._db.shared:
            self._register(now)
        _uncertain(self._leases.recover(now), "the service stopped while submitting")
        _uncertain_assets(self._assets.recover(now))

    def _register(self, now: float) -> None:
        before = self._hosts.register(instance=uuid.uuid4().hex, pid=os.getpid(), now=now)
        if before is not None and before.pid != 0 and now - before.seen_at < self._store.lease_s:
            log.warning(
                "host_name_in_use",
                host=self._db.host,
                seen_s_ago=round(now - before.seen_at, 1),
                hint="if another service runs under this name, give each its own store.host",
            )

    def keep(self, now: float) -> None:
        """Heartbeat this host's leases; take over what silent hosts held."""
        self._hosts.seen(now)
        self._store.heartbeat(now)
        # first the assets (found through their jobs' silent holder), then those jobs
        _uncertain_assets(self._assets.recover(now, dead_only=True))
        _uncertain(self._leases.reap(now), "its host stopped while submitting")
        taken = self._hosts.take_over(now, lease_s=self._store.lease_s)
        for host in sorted({h for _, h in taken}):
            ids = [job_id for job_id, h in taken if h == host]
            log.warning("jobs_taken_over", from_host=host, jobs=ids, count=len(ids))

    def stopped(self, now: float) -> None:
        """A clean stop on a shared store: release this host's jobs and inputs at once."""
        if not self._db.shared:
            return
        try:
            self._hosts.stopped(now)
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
