"""Pages of jobs for the JSON API and a dashboard (issue 18): filters (state, rule, text in the
input's name, created since/until) and a cursor (the last id seen), newest first — a query that
stays quick at 200,000 jobs (the primary key walks backwards; no OFFSET)."""

from __future__ import annotations

from dataclasses import dataclass

from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Job
from viggle_watch.store.records import job_of

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class JobQuery:
    state: str | None = None
    rule: str | None = None
    text: str | None = None  # in the input's file name (its path), any case
    since: float | None = None  # created at or after (epoch seconds)
    until: float | None = None  # created before
    before_id: int | None = None  # the cursor: jobs older than this one
    limit: int = 50


def page_sql(query: JobQuery) -> tuple[str, list[object]]:
    """The SQL and parameters of ``query`` (pure: its own test reads them)."""
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    for column, value in (("state", query.state), ("rule", query.rule)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.text:
        escaped = query.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("LOWER(source_path) LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    if query.since is not None:
        where.append("created_at >= ?")
        params.append(query.since)
    if query.until is not None:
        where.append("created_at < ?")
        params.append(query.until)
    if query.before_id is not None:
        where.append("id < ?")
        params.append(query.before_id)
    limit = max(1, min(query.limit, MAX_PAGE))
    sql = f"SELECT * FROM jobs WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"  # noqa: S608
    return sql, [*params, limit]


def page(db: Backend, query: JobQuery) -> list[Job]:
    """One page of jobs, newest first; the next page's cursor is the last one's id."""
    sql, params = page_sql(query)
    with db.read() as conn:
        return [job_of(r) for r in conn.execute(sql, tuple(params)).fetchall()]


def spend_by_day(db: Backend, since_day: str) -> list[tuple[str, str, float]]:
    """Credits committed per UTC day and rule since ``since_day`` (``YYYY-MM-DD``), for the
    dashboard's chart: (day, rule, credits). A character's creation has no job's rule when it
    served several; it is counted under ``characters``; a day's credits carried over by `store
    reset`, under ``before the reset``."""
    sql = (
        "SELECT s.day, COALESCE(j.rule, CASE s.kind WHEN 'carried' THEN 'before the reset'"
        " ELSE 'characters' END), SUM(s.credits) FROM spend s"
        " LEFT JOIN jobs j ON j.id = s.job_id WHERE s.day >= ? GROUP BY 1, 2"
        " ORDER BY s.day"
    )
    with db.read() as conn:
        rows = conn.execute(sql, (since_day,)).fetchall()
    return [(str(d), str(r), float(c)) for d, r, c in rows]
