"""The asset cache: content hash → Viggle character / scene id, with the same intent rules.

Keys: a character by its image sha256; a scene by ``<video sha256>:<model>``; a template scene
by ``<template id>:<model>``. A row is written as ``creating`` before the preprocess POST (the
intent), gets its id right after (``pending``), and becomes ``ready`` or ``failed``. A
character costs a credit, so a lost ``creating`` becomes ``uncertain`` at start-up, like a
render; scenes are free, so a lost scene intent is simply forgotten and made again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from viggle_watch.errors import BudgetExceededError
from viggle_watch.store.backend import Backend


class AssetKind(StrEnum):
    CHARACTER = "character"
    SCENE = "scene"
    TEMPLATE = "template"


class AssetStatus(StrEnum):
    CREATING = "creating"
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


PAID_KINDS: Final = frozenset({AssetKind.CHARACTER})


@dataclass(frozen=True, slots=True)
class Asset:
    kind: AssetKind
    key: str
    viggle_id: str
    status: AssetStatus
    job_id: int | None
    detail: str
    created_at: float
    updated_at: float
    duration_s: float | None = None


def scene_key(sha256: str, model: str) -> str:
    return f"{sha256}:{model}"


def _asset(row: Any) -> Asset:
    return Asset(
        AssetKind(row["kind"]),
        row["asset_key"],
        row["viggle_id"],
        AssetStatus(row["status"]),
        row["job_id"],
        row["detail"],
        row["created_at"],
        row["updated_at"],
        row["duration_s"],
    )


class AssetStore:
    """Rows of the ``assets`` table; every change is one short transaction."""

    def __init__(self, db: Backend) -> None:
        self._db = db

    def get(self, kind: AssetKind, key: str) -> Asset | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT * FROM assets WHERE kind = ? AND asset_key = ?", (kind, key)
            ).fetchone()
        return _asset(row) if row else None

    def begin_create(
        self,
        kind: AssetKind,
        key: str,
        *,
        job_id: int,
        at: float,
        credits: float = 0.0,
        day: str = "",
        daily_cap: float | None = None,
    ) -> bool:
        """Commit the intent to create an asset (and its cost); False when it exists already.

        With ``daily_cap`` and a cost, the day's credits (every host's) are checked under the
        budget lock first; ``BudgetExceededError`` commits nothing.
        """
        with self._db.write() as conn:
            if credits and daily_cap is not None:
                self._db.lock_budget(conn)
                row = conn.execute(
                    "SELECT COALESCE(SUM(credits), 0) FROM spend WHERE day = ?", (day,)
                ).fetchone()
                if float(row[0]) + credits > daily_cap + 1e-9:
                    raise BudgetExceededError(float(row[0]), daily_cap, credits)
            cur = conn.execute(
                "INSERT INTO assets (kind, asset_key, viggle_id, status, created_at, updated_at,"
                " job_id, detail) VALUES (?, ?, '', ?, ?, ?, ?, '')"
                " ON CONFLICT (kind, asset_key) DO NOTHING",
                (kind, key, AssetStatus.CREATING, at, at, job_id),
            )
            if cur.rowcount != 1:
                return False
            if credits:
                conn.execute(
                    "INSERT INTO spend (day, job_id, kind, credits, at, asset_key)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (day, job_id, str(kind), credits, at, f"{kind}:{key}"),
                )
            return True

    def refund(self, kind: AssetKind, key: str) -> None:
        """The creation provably cost nothing (refused, or never sent): drop its spending."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM spend WHERE asset_key = ?", (f"{kind}:{key}",))

    def set(
        self,
        kind: AssetKind,
        key: str,
        status: AssetStatus,
        *,
        at: float,
        viggle_id: str | None = None,
        detail: str | None = None,
        duration_s: float | None = None,
    ) -> None:
        """Record what the API said of the asset (its id, its status, a reason, a duration)."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE assets SET status = ?, updated_at = ?, viggle_id = COALESCE(?, viggle_id),"
                " detail = COALESCE(?, detail), duration_s = COALESCE(?, duration_s)"
                " WHERE kind = ? AND asset_key = ?",
                (status, at, viggle_id, detail, duration_s, kind, key),
            )

    def settle(
        self,
        kind: AssetKind,
        key: str,
        src: AssetStatus,
        to: AssetStatus | None,
        *,
        intent_at: float,
        at: float,
        viggle_id: str = "",
        detail: str = "",
        refund: bool = False,
    ) -> bool:
        """One transaction: the answer to the creation begun at ``intent_at`` moves its row
        from ``src`` to ``to`` (None: drops it), giving its credit back with ``refund``.
        False (nothing written) when the row is not that intent in ``src`` any more."""
        where = " WHERE kind = ? AND asset_key = ? AND status = ? AND ABS(created_at - ?) < 1e-6"
        match = (kind, key, src, intent_at)
        with self._db.write() as conn:
            if to is None:
                cur = conn.execute("DELETE FROM assets" + where, match)  # noqa: S608 - constant
            else:
                cur = conn.execute(
                    "UPDATE assets SET status = ?, updated_at = ?,"  # noqa: S608 - constant SQL
                    " viggle_id = CASE WHEN ? = '' THEN viggle_id ELSE ? END,"
                    " detail = CASE WHEN ? = '' THEN detail ELSE ? END" + where,
                    (to, at, viggle_id, viggle_id, detail, detail, *match),
                )
            if cur.rowcount != 1:
                return False
            if refund:
                conn.execute("DELETE FROM spend WHERE asset_key = ?", (f"{kind}:{key}",))
            return True

    def forget(self, kind: AssetKind, key: str, *, refund: bool = False) -> None:
        """Drop the row (the API no longer knows the asset, or a person retries it)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM assets WHERE kind = ? AND asset_key = ?", (kind, key))
            if refund:
                conn.execute("DELETE FROM spend WHERE asset_key = ?", (f"{kind}:{key}",))

    def recover(self, at: float, *, dead_only: bool = False) -> list[Asset]:
        """Lost paid intents become uncertain; lost free ones are forgotten.

        At start-up on one host every ``creating`` row is lost. On a shared store, the rows
        of jobs this host held (unless ``dead_only``) or whose holder's lease ran out.
        """
        params: tuple[object, ...] = (AssetStatus.CREATING,)
        scope = ""
        if dead_only:
            scope = (
                " AND job_id IN (SELECT id FROM jobs WHERE owner IS NOT NULL AND owner <> ?"
                " AND lease_until < ?)"
            )
            params += (self._db.host, at)
        elif self._db.shared:
            scope = (  # lost unless another host that is alive holds its job
                " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.id = assets.job_id"
                " AND owner IS NOT NULL AND owner <> ? AND lease_until >= ?)"
            )
            params += (self._db.host, at)
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT * FROM assets WHERE status = ?" + scope,  # noqa: S608 - constant SQL
                params,
            ).fetchall()
            lost = [_asset(r) for r in rows]
            for asset in lost:
                if asset.kind in PAID_KINDS:
                    conn.execute(
                        "UPDATE assets SET status = ?, updated_at = ?, detail = ?"
                        " WHERE kind = ? AND asset_key = ?",
                        (
                            AssetStatus.UNCERTAIN,
                            at,
                            "service stopped while creating it; outcome unknown",
                            asset.kind,
                            asset.key,
                        ),
                    )
                else:
                    conn.execute(
                        "DELETE FROM assets WHERE kind = ? AND asset_key = ?",
                        (asset.kind, asset.key),
                    )
        return [a for a in lost if a.kind in PAID_KINDS]

    def count(self, kind: AssetKind) -> int:
        with self._db.read() as conn:
            row = conn.execute("SELECT COUNT(*) FROM assets WHERE kind = ?", (kind,)).fetchone()
        return int(row[0])
