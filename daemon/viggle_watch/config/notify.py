"""Where service events go (issue 17; docs/notifications.md): ``notify:`` targets (Apprise URLs:
Slack, Discord, Teams, ntfy, Telegram, e-mail, Pushover…) and ``webhooks:`` (Standard
Webhooks), each with the events it wants. The event names are promises to users' configs."""

from __future__ import annotations

from typing import Annotated, Final, Literal, get_args

from pydantic import Field, SecretStr, model_validator

from viggle_watch.config.kinds import ConfigPath, Duration, Strict, Webhook

EventName = Literal[
    "done",
    "failed",
    "rejected",
    "uncertain",
    "review",
    "budget",
    "paused",
    "resumed",
    "key_refused",
    "folder",
    "started",
    "stopped",
]
EVENT_NAMES: Final[tuple[EventName, ...]] = get_args(EventName)


def _default_events() -> list[EventName]:
    """What a person must act on, or would want to know at once; `done` is opt-in (there can
    be many: see ``digest``)."""
    return [e for e in EVENT_NAMES if e != "done"]


class NotifyTarget(Strict):
    """One Apprise target: ``url`` (kept secret: never printed or logged) or ``url_file`` (a
    file holding the URL, since those URLs carry tokens), the events it gets, optionally only
    some rules' events, ``done`` batched into a digest, a repeated problem held back."""

    url: SecretStr | None = None
    url_file: ConfigPath | None = None
    events: Annotated[list[EventName], Field(min_length=1, default_factory=_default_events)]
    rules: list[str] | None = None  # only these rules' job and input events
    digest: Duration | None = None  # `done` events gathered and sent as one message this often
    repeat: Duration = 3600.0  # the same problem (one folder, the key, …) at most this often

    @model_validator(mode="after")
    def _one_source(self) -> NotifyTarget:
        if (self.url is None) == (self.url_file is None):
            raise ValueError("give exactly one of url and url_file")
        return self


class ServiceWebhook(Webhook):
    """A webhook for service events (top-level ``webhooks:``): a rule's webhook, and the
    events it wants."""

    events: Annotated[list[EventName], Field(min_length=1, default_factory=_default_events)]
