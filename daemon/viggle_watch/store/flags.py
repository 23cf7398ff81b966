"""Switches every host obeys, kept in the store so a restart keeps them: a person's ``pause``
and Viggle's refusal of the API key. While one is raised nothing new is submitted or
preprocessed; polls and downloads of work already paid for go on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from viggle_watch.store.backend import Backend


class Flag(StrEnum):
    PAUSED = "paused"  # `viggle-watch pause`, until `viggle-watch resume`
    KEY_REFUSED = "key_refused"  # a 401/403; lowered by the next check that passes


@dataclass(frozen=True, slots=True)
class Raised:
    flag: Flag
    reason: str
    host: str  # who raised it
    at: float


class FlagStore:
    def __init__(self, db: Backend) -> None:
        self._db = db

    def raise_flag(self, flag: Flag, reason: str, *, now: float) -> bool:
        """Raise (or restate) ``flag``; True when it was not raised before."""
        with self._db.write() as conn:
            before = conn.execute("SELECT 1 FROM flags WHERE name = ?", (str(flag),)).fetchone()
            conn.execute(
                "INSERT INTO flags (name, reason, host, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET reason = excluded.reason",
                (str(flag), reason, self._db.host, now),
            )
        return before is None

    def lower(self, flag: Flag) -> bool:
        """Lower ``flag``; True when it was raised."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM flags WHERE name = ?", (str(flag),)).rowcount > 0

    def raised(self) -> list[Raised]:
        with self._db.read() as conn:
            rows = conn.execute("SELECT name, reason, host, at FROM flags ORDER BY at").fetchall()
        return [Raised(Flag(r[0]), r[1], r[2], float(r[3])) for r in rows]

    def holding(self) -> str | None:
        """Why new paid work is held now (the first flag raised), or None: go."""
        raised = self.raised()
        return f"{raised[0].flag}: {raised[0].reason}" if raised else None
