"""The gate the render ticks ask before new paid work, kept in the store's flags so that every
host and every restart obeys it: a person's ``pause``, and Viggle's refusal of the API key.

The key is checked with a free authenticated call (``GET /api/credits``) at start-up, and
every ``KEY_RECHECK_S`` while it stands refused: a 401/403 raises ``key_refused`` (logged once,
shown by ``status``); the next check that passes lowers it and submissions resume. A network
failure, or an answer that is neither, proves nothing: the key is "not checked" and the flag
stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Final, Literal

import structlog

from viggle_watch.errors import ApiError, AuthError
from viggle_watch.store.flags import Flag, FlagStore
from viggle_watch.viggle.client import ViggleClient

log = structlog.get_logger()
KEY_RECHECK_S: Final = 300.0
HOLD_CACHE_S: Final = 1.0  # how stale the flags may be when a tick asks whether to hold
KeyVerdict = Literal["accepted", "refused", "not checked"]


class Gatekeeper:
    """A ``render.gate.Gate`` over the store's flags, and the API key's check."""

    def __init__(
        self, flags: FlagStore, client: ViggleClient, *, clock: Callable[[], float] = monotonic
    ) -> None:
        self._flags = flags
        self._client = client
        self._clock = clock
        self._cached: tuple[float, str | None] = (-HOLD_CACHE_S, None)
        self._here: str | None = None  # held on this host only, for good (``hold_here``)

    def holding(self) -> str | None:
        """Read from the store at most every ``HOLD_CACHE_S`` (every tick asks): a pause set
        by a person, or on another host, holds within that time."""
        if self._here is not None:
            return self._here
        at, held = self._cached
        if self._clock() - at >= HOLD_CACHE_S:
            held = self._flags.holding()
            self._cached = (self._clock(), held)
        return held

    def hold_here(self, reason: str) -> None:
        """Hold new paid work on this host (not the others) until it stops: it lost its
        store host name to another process (issue 19 §3)."""
        self._here = reason

    def key_refused(self, reason: str, now: float) -> None:
        self._cached = (-HOLD_CACHE_S, None)  # this host holds from its very next step
        if self._flags.raise_flag(Flag.KEY_REFUSED, reason, now=now):
            log.error(
                "submissions_paused",
                reason=f"the API key was refused: {reason}",
                hint="fix the key (then it is checked again within 5 min), or restart",
            )

    def check_key(self, now: float) -> KeyVerdict:
        """Ask Viggle whether the key is good (free); raise or lower ``key_refused``."""
        verdict, reason = ask_about_key(self._client)
        if verdict == "refused":
            self.key_refused(reason, now)
        elif verdict == "not checked":
            log.warning("api_key_not_checked", reason=reason)
        elif self._flags.lower(Flag.KEY_REFUSED):
            self._cached = (-HOLD_CACHE_S, None)
            log.info("api_key_accepted", hint="submissions resume")
        return verdict

    def recheck(self, now: float) -> None:
        """Every few minutes: ask again only while the key stands refused (a good key needs
        no asking: the next paid call would show a refusal)."""
        if any(r.flag == Flag.KEY_REFUSED for r in self._flags.raised()):
            self.check_key(now)


def ask_about_key(client: ViggleClient) -> tuple[KeyVerdict, str]:
    """A free authenticated call: what it says of the key, and why."""
    try:
        client.credits(retry=False)
    except AuthError as exc:
        return "refused", str(exc)
    except ApiError as exc:
        return "not checked", str(exc)
    return "accepted", ""
