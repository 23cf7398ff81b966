"""The service's events (issue 17; docs/notifications.md): one type for everything a person or a
pipeline may want to hear — a render done or failed, an input refused, a job that needs a
person, the budget, the key, a folder, the service starting and stopping — made here by pure
functions, and handed to ``notify.outbox`` (Apprise targets and service webhooks).

Each event says what happened and, when a person must act, what to do, in words a chat message
can carry; ``key`` names the problem, so the same one is not repeated more often than a
target's ``repeat``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from viggle_watch.config.notify import EventName
from viggle_watch.outputs.sidecar import output_now
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State

JOB_EVENTS: Final[dict[State, EventName]] = {
    State.DONE: "done",
    State.FAILED: "failed",
    State.UNCERTAIN: "uncertain",
    State.REVIEW: "review",
}
# Apprise's message types: how a chat shows it (a colour, an icon)
LEVEL: Final[dict[str, str]] = {
    "done": "success",
    "resumed": "success",
    "started": "info",
    "stopped": "info",
    "paused": "warning",
    "budget": "warning",
    "folder": "warning",
    "review": "warning",
}


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, in words: ``title`` a line, ``body`` the rest."""

    name: EventName
    title: str
    body: str
    at: float
    rule: str | None = None  # a job's or an input's rule; None for a service-wide event
    job_id: int | None = None
    key: str = ""  # the problem's name for `repeat` (empty: each event is its own)
    data: Mapping[str, Any] = field(default_factory=dict)  # figures: credits, paths…
    id: str = field(default_factory=lambda: f"msg_{uuid.uuid4().hex}")

    @property
    def level(self) -> str:
        return LEVEL.get(self.name, "failure")

    def as_json(self) -> dict[str, Any]:
        """The body of a service webhook: the event as data."""
        return {
            "id": self.id,
            "event": self.name,
            "title": self.title,
            "body": self.body,
            "at": self.at,
            "rule": self.rule,
            "job_id": self.job_id,
            "data": dict(self.data),
        }


def job_event_name(state: State) -> EventName | None:
    """The event a job entering ``state`` is told as (None: nothing to tell). The one place
    this is decided: for this host's changes (``notify.announce``) and for the other hosts'
    on a shared store (``web.other_hosts``)."""
    return JOB_EVENTS.get(state)


def job_event(job: Job, at: float) -> Event | None:
    """The event of a job that has just entered ``job.state`` (None: nothing to tell)."""
    name = job_event_name(job.state)
    if name is None:
        return None
    where = output_now(job)
    source = Path(job.spec.character.path).name
    reason = (job.error_message or "no reason recorded").removeprefix("needs a look: ")
    if name == "done":
        title = f"Render done: {Path(where).name if where else source}"
        body = f"{source} in rule {job.rule}: {where}"
    elif name == "failed":
        title, body = f"Render failed: {source}", f"Rule {job.rule}, job {job.id}: {reason}"
    elif name == "uncertain":
        title = f"Needs a person: {source} is uncertain"
        body = (
            f"Rule {job.rule}, job {job.id}: {reason}. Viggle may or may not have taken (and"
            " charged) it: look for it in the Viggle dashboard, then `viggle-watch jobs resolve"
            f" {job.id} --viggle-job ID`, or `viggle-watch jobs retry {job.id} --force`."
        )
    else:
        title = f"Needs a look: {source}"
        body = (
            f"Rule {job.rule}, job {job.id}: {reason}. The render is in {where}."
            f" `viggle-watch jobs accept {job.id}` publishes it, `viggle-watch jobs retry"
            f" {job.id}` renders again (paid)."
        )
    data = {"output": where, "credits": job.charged_credits or job.estimate_credits}
    return Event(name, title, body, at, rule=job.rule, job_id=job.id, data=data)


def rejected_event(rule: str, path: Path, reason: str, at: float) -> Event:
    """An input refused before anything was spent."""
    return Event(
        "rejected",
        f"Input refused: {path.name}",
        f"Rule {rule}: {reason} Nothing was spent; the file is in {path.parent}/failed/.",
        at,
        rule=rule,
        data={"input": str(path)},
    )


def service_event(name: EventName, title: str, body: str, at: float, *, key: str = "") -> Event:
    """A service-wide event (budget, the key, a folder, pause, start and stop)."""
    return Event(name, title, body, at, key=key or name)


def folder_event(path: Path, at: float, *, back: bool) -> Event:
    """A watch folder gone (deleted, or its share unmounted), or back."""
    if back:
        title, body = f"Watch folder back: {path}", f"{path} is back; it is watched and scanned."
    else:
        title = f"Watch folder missing: {path}"
        body = (
            f"{path} is gone or its share is not mounted: files dropped there are not seen."
            " It is watched again as soon as it is back."
        )
    return Event("folder", title, body, at, key=f"folder:{path}:{'back' if back else 'gone'}")


def sample(name: EventName, at: float) -> Event:
    """What ``viggle-watch notify test`` sends for ``name``: marked as a test."""
    return Event(
        name,
        f"Test: the {name} event",
        f"viggle-watch notify test: this is what a `{name}` event looks like here.",
        at,
        data={"test": True},
    )
