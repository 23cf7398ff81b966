"""The input claims of hosts that are gone (issue 19 §5). A host that claimed a settled file
and died (or stopped) before queuing it held that file away from every other host, and the
others had stopped looking at it: it waited for their next rescan. The survivor's take-over
lets go of those claims and looks at the files again at once (``Intake.look_again``)."""

from __future__ import annotations

from viggle_watch.store.backend import Backend


class DeadClaims:
    def __init__(self, db: Backend) -> None:
        self._db = db
        self.host = db.host

    def release(self, now: float, *, alive_s: float, ttl_s: float) -> dict[str, list[str]]:
        """Let go of the claims younger than ``ttl_s`` (older ones any host may take anyway)
        of every other host stopped or silent for ``alive_s`` (as ``HostStore.claim_input``
        judges it); return the claimed paths by host."""
        with self._db.write() as conn:
            gone = conn.execute(
                "SELECT name FROM hosts WHERE name <> ? AND (pid = 0 OR seen_at < ?)",
                (self.host, now - alive_s),
            ).fetchall()
            freed: dict[str, list[str]] = {}
            for (host,) in gone:
                rows = conn.execute(
                    "DELETE FROM input_claims WHERE host = ? AND at >= ? RETURNING path",
                    (host, now - ttl_s),
                ).fetchall()
                if rows:
                    freed[str(host)] = sorted(str(r[0]) for r in rows)
        return freed
