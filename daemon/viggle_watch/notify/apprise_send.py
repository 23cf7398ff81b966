"""Sending a message to an Apprise URL (Slack, Discord, Teams, ntfy, Telegram, e-mail,
Pushover, ``json://``…): the only module that imports Apprise, an optional extra
(``pip install 'viggle-watch[notify]'``), imported when a ``notify`` target is first used.

The URL holds tokens: it is never logged. Apprise's own log lines are captured for the one
call (not passed on to the service's log, where they could carry the URL) and what they say
of a failure is kept, redacted.
"""

from __future__ import annotations

import logging
from typing import Final

from viggle_watch.errors import ConfigError
from viggle_watch.notify.flood import Message, Send
from viggle_watch.redaction import redact_text

MISSING: Final = (
    "notify is configured but Apprise is not installed: pip install 'viggle-watch[notify]'"
)


def apprise_installed() -> bool:
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True


def apprise_sender(url: str) -> Send:
    """A sender to ``url``; ``ConfigError`` when Apprise is missing or does not know the URL."""
    try:
        import apprise
    except ImportError:
        raise ConfigError(MISSING) from None
    logging.getLogger("apprise").propagate = False  # its lines may carry the URL
    target = apprise.Apprise()
    if not target.add(url):
        raise ConfigError("a notify url is not one Apprise knows (see its list of services)")

    def send(message: Message) -> str | None:
        with apprise.LogCapture(level=logging.WARNING) as said:  # type: ignore[no-untyped-call]
            ok = target.notify(body=message.body, title=message.title, notify_type=message.level)
        if ok:
            return None
        lines = [line for line in said.getvalue().splitlines() if line.strip()]
        return redact_text(lines[-1].split(" - ", 2)[-1]) if lines else "not delivered"

    return send
