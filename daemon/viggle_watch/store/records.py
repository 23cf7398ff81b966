"""Rows of the job store as Python values: a job, an event of its history, a spend."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from viggle_watch.store.spec import JobSpec
from viggle_watch.store.states import State

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
        "owner",
        "charged_credits",
        "charged_how",
        "balance_before",
        "render_age_s",
        "polled_at",
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
    owner: str | None = None  # the host working on it (several hosts share a PostgreSQL store)
    lease_until: float = 0.0
    charged_credits: float | None = None  # what Viggle charged for the render, when known
    charged_how: str | None = None  # how that was learned, or why it is not known
    balance_before: float | None = None  # read before the POST while it was the only paid one
    render_age_s: float = 0.0  # how long it has rendered while the service watched (timeouts)
    polled_at: float | None = None  # its last status poll


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    from_state: State | None
    to_state: State
    detail: str


@dataclass(frozen=True, slots=True)
class Spend:
    kind: str  # "render" | "character" | CARRIED
    credits: float
    day: str  # UTC YYYY-MM-DD


CARRIED: Final = "carried"  # the day's credits committed in a store replaced by `store reset`


def insert_spend(conn: Any, job_id: int | None, spend: Spend, at: float) -> None:
    conn.execute(
        "INSERT INTO spend (day, job_id, kind, credits, at) VALUES (?, ?, ?, ?, ?)",
        (spend.day, job_id, spend.kind, spend.credits, at),
    )


def job_of(row: Any) -> Job:
    d = dict(row)
    d["state"] = State(d["state"])
    d["spec"] = JobSpec.from_json(d.pop("request_json"))
    d.pop("model")  # columns for queries; the spec carries them
    d.pop("mode")
    d.pop("priority")
    d["assets"] = json.loads(d.pop("assets_json") or "{}")
    return Job(**d)
