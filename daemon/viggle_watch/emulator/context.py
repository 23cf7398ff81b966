"""What an emulator route handler works with: the shared backend and the one call it serves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from viggle_watch.emulator.cdn import Cdn
from viggle_watch.emulator.faults import FaultInjector
from viggle_watch.emulator.replies import Rejection, Reply
from viggle_watch.emulator.state import EmulatorState
from viggle_watch.emulator.templates import Template
from viggle_watch.emulator.wire import HttpRequest

FILES_PREFIX: Final = "/_sim/files/"
CDN_PREFIX: Final = "/cdn/"


@dataclass(frozen=True, slots=True)
class Backend:
    """Everything the handlers share: state, dice, CDN, templates and the base latency."""

    state: EmulatorState
    injector: FaultInjector
    cdn: Cdn
    templates: Mapping[str, Template]
    latency_s: float

    @property
    def legacy(self) -> bool:
        """Whether the legacy dialect is in force."""
        return self.injector.faults.legacy

    def resolve(self, path: str, query: Mapping[str, str]) -> bytes | None:
        """The bytes the emulator serves at ``path`` (a hosted file or a signed CDN URL)."""
        if path.startswith(FILES_PREFIX):
            return self.state.file(path.removeprefix(FILES_PREFIX))
        if path.startswith(CDN_PREFIX):
            found = self.cdn.lookup(path.removeprefix(CDN_PREFIX), query)
            return None if isinstance(found, Rejection) else found
        return None


@dataclass(frozen=True, slots=True)
class Call:
    """One request being handled: the request, its path arguments, and the caller's key."""

    request: HttpRequest
    args: Mapping[str, str]
    key_fingerprint: str | None
    """sha256 of the API key (12 hex digits) once authenticated; None on unauthenticated routes."""

    @property
    def owner(self) -> str:
        """The authenticated caller (only on routes that require a key)."""
        assert self.key_fingerprint is not None, "route requires a key"
        return self.key_fingerprint

    @property
    def url_root(self) -> str:
        """``http://host:port`` as the client addressed the emulator."""
        return self.request.url_root


Handler = Callable[[Backend, Call], Reply | Rejection]
"""A route handler: validates, acts on the state, and says what to answer."""
