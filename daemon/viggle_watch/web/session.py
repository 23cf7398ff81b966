"""The dashboard's sign-in (issue 18; docs/web.md#the-dashboard), decided purely: a session
cookie signed with a key derived from the web token, a CSRF token bound to the session, and a
limit on failed sign-ins. No session is stored: the cookie carries its own expiry and nonce,
and the HMAC proves the service made it. Signing out revokes the nonce (kept until it would
have expired anyway); a new token ends every session (the key changes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Final

COOKIE: Final = "viggle_session"
CSRF_HEADER: Final = "X-CSRF-Token"
SESSION_S: Final = 12 * 3600.0  # a working day; then sign in again
FAILURES_ALLOWED: Final = 5  # failed sign-ins from one address within FAILURE_WINDOW_S …
FAILURE_WINDOW_S: Final = 300.0  # … after which it waits until the oldest leaves the window
FAILURES_IN_ALL: Final = 30  # from all addresses together (an address can be made up)


def session_key(token: str, salt: bytes) -> bytes:
    """The signing key: derived from the token (never the token itself, so a leaked cookie
    gives no way back to it) and a salt drawn at each start (a restart signs everyone out, so
    a signed-out cookie, remembered only in memory, never works again)."""
    return hashlib.sha256(b"viggle-watch dashboard session\0" + salt + token.encode()).digest()


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()


def issue(key: bytes, now: float, nonce: str | None = None) -> str:
    """A new session cookie's value: ``EXPIRES.NONCE.MAC``."""
    nonce = nonce or secrets.token_urlsafe(18)
    expires = str(int(now + SESSION_S))
    return f"{expires}.{nonce}.{_mac(key, 'session', expires, nonce)}"


def verify(key: bytes, cookie: str | None, now: float, revoked: frozenset[str]) -> str | None:
    """The session's nonce when ``cookie`` is one this key signed, not expired nor revoked."""
    if not cookie or cookie.count(".") != 2:
        return None
    expires, nonce, mac = cookie.split(".")
    if not expires.isdigit() or not same(mac, _mac(key, "session", expires, nonce)):
        return None
    if int(expires) <= now or nonce in revoked:
        return None
    return nonce


def expiry(cookie: str) -> float:
    """When a (verified) cookie expires."""
    return float(cookie.split(".", 1)[0])


def csrf_token(key: bytes, nonce: str) -> str:
    """The CSRF token of a session: pages carry it, every change sends it back."""
    return _mac(key, "csrf", nonce)


def csrf_ok(key: bytes, nonce: str, given: str | None) -> bool:
    return given is not None and same(given, csrf_token(key, nonce))


def same(given: str, wanted: str) -> bool:
    """Constant-time, and any text a client sends (not only ASCII) is simply unequal."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), wanted.encode())


def cross_site(origin: str | None, fetch_site: str | None, host: str | None) -> bool:
    """Whether a browser says this request comes from another site's page: ``Sec-Fetch-Site``
    (sent by every current browser) or, failing that, an ``Origin`` naming another host.
    Scripts (curl, a pipeline) send neither and are judged by their token alone."""
    if fetch_site is not None:
        return fetch_site.lower() not in ("same-origin", "none")
    if origin is None or origin == "null":
        return origin == "null"
    return origin.split("://", 1)[-1].lower() != (host or "").lower()


@dataclass(slots=True)
class Attempts:
    """Failed sign-ins per client address: more than ``FAILURES_ALLOWED`` within
    ``FAILURE_WINDOW_S`` and that address waits (a token cannot be guessed by trying)."""

    failures: dict[str, deque[float]] = field(default_factory=dict)
    everyone: deque[float] = field(default_factory=lambda: deque(maxlen=FAILURES_IN_ALL))

    def wait_s(self, client: str, now: float) -> float:
        """0 when ``client`` may try now; else how long it must wait."""
        while self.everyone and self.everyone[0] <= now - FAILURE_WINDOW_S:
            self.everyone.popleft()
        waits = [0.0]
        recent = self._recent(client, now)
        if len(recent) >= FAILURES_ALLOWED:
            waits.append(recent[0] + FAILURE_WINDOW_S - now)
        if len(self.everyone) >= FAILURES_IN_ALL:
            waits.append(self.everyone[0] + FAILURE_WINDOW_S - now)
        return max(1.0, *waits) if max(waits) > 0 else 0.0

    def failed(self, client: str, now: float) -> None:
        self._recent(client, now).append(now)
        self.everyone.append(now)
        if len(self.failures) > 10_000:  # many made-up addresses: forget the quiet ones
            self.failures = {c: d for c, d in self.failures.items() if d}

    def succeeded(self, client: str) -> None:
        self.failures.pop(client, None)

    def _recent(self, client: str, now: float) -> deque[float]:
        recent = self.failures.setdefault(client, deque(maxlen=FAILURES_ALLOWED))
        while recent and recent[0] <= now - FAILURE_WINDOW_S:
            recent.popleft()
        return recent


@dataclass(slots=True)
class Revoked:
    """Nonces of sessions signed out, each kept until it would have expired anyway."""

    until: dict[str, float] = field(default_factory=dict)

    def add(self, nonce: str, expires: float, now: float) -> None:
        self.until = {n: t for n, t in self.until.items() if t > now}
        self.until[nonce] = expires

    def snapshot(self) -> frozenset[str]:
        return frozenset(self.until)
