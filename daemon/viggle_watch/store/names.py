"""The heartbeat row as a process's hold on its host name (issue 19 §3; the verdicts are
``app.naming``'s): read who holds the name, take it from a given holder (compare-and-set: two
processes taking it at once cannot both win), and note a conflict for ``status``."""

from __future__ import annotations

from viggle_watch.store.backend import Backend
from viggle_watch.store.hosts import Host, _host


class HostNames:
    def __init__(self, db: Backend) -> None:
        self._db = db
        self.host = db.host

    def holder(self) -> Host | None:
        """The row of this name: the process that holds it (or last held it), or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM hosts WHERE name = ?", (self.host,)).fetchone()
        return None if row is None else _host(row)

    def take(
        self,
        *,
        instance: str,
        pid: int,
        machine: str,
        node: str,
        now: float,
        replacing: str | None,
    ) -> bool:
        """Hold the name as this process, if its row is still held by instance ``replacing``
        (None: if there is no row yet). False: another process changed it first."""
        me = (instance, pid, now, now, machine, node)
        with self._db.write() as conn:
            if replacing is None:
                made = conn.execute(
                    "INSERT INTO hosts (instance, pid, started_at, seen_at, machine, node, name)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
                    (*me, self.host),
                ).fetchone()
                return made is not None
            return (
                conn.execute(
                    "UPDATE hosts SET instance = ?, pid = ?, started_at = ?, seen_at = ?,"
                    " machine = ?, node = ? WHERE name = ? AND instance = ?",
                    (*me, self.host, replacing),
                ).rowcount
                > 0
            )

    def note(self, words: str, now: float) -> None:
        """Keep ``words`` as the name's last conflict (``status`` shows it)."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE hosts SET conflict = ?, conflict_at = ? WHERE name = ?",
                (words, now, self.host),
            )
