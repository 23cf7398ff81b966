"""Who may do what over HTTP (issue 18; docs/web.md), decided purely. A page on this machine
can send requests to 127.0.0.1, and every render costs money: a request that changes anything
needs the bearer token, even on loopback; without a token configured the API is read-only.
The ``Host`` header must name this listener (a DNS-rebinding page names its own)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Final, Literal

from viggle_watch.serving import is_loopback_host

Verdict = Literal["ok", "bad_host", "no_token", "bad_token", "read_only", "cross_site"]
READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
ANY_NAME: Final = "*"  # in web.hosts: any Host (off loopback only)


def host_allowed(host_header: str | None, listen: tuple[str, int], hosts: Sequence[str]) -> bool:
    """Whether ``Host`` names this listener: its address (with its port), ``localhost`` when it
    listens on loopback, or one of ``web.hosts`` (with or without the port). ``*`` in
    ``web.hosts`` takes any name — allowed only off loopback (``config.web``), where every
    request needs the token, which a rebinding page does not have (a container's published
    port, reached by names and ports the service cannot know)."""
    if not host_header:
        return False
    name, port = listen
    if ANY_NAME in hosts and not is_loopback_host(name):
        return True  # (config.web refuses it on loopback; this holds even if it did not)
    wanted = {f"{name}:{port}", f"[{name}]:{port}"}
    if name in ("127.0.0.1", "::1", "localhost"):
        wanted |= {f"localhost:{port}", f"127.0.0.1:{port}"}
    for other in hosts:
        wanted |= {other, f"{other}:{port}"}
    return host_header.lower() in {w.lower() for w in wanted}


def named_elsewhere(host_header: str | None, hosts: Sequence[str]) -> bool:
    """Whether the request came by one of ``web.hosts`` (a reverse proxy's name): from the
    network, then, even on a loopback listener — its reads need the token too."""
    name = (host_header or "").lower().rsplit(":", 1)[0] if host_header else ""
    return name in {h.lower() for h in hosts}


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def judge(
    method: str,
    *,
    token: str | None,
    given: str | None,
    open_reads: bool,
    loopback: bool,
    signed_in: bool = False,
) -> Verdict:
    """May this request go on? Reads may be open on a loopback listener; everything else needs
    the configured token (compared in constant time), or the dashboard's session (its cookie,
    and on a change its CSRF token: ``web.session``)."""
    if method.upper() in READ_METHODS and open_reads and loopback:
        return "ok"
    if token is None:
        return "read_only" if method.upper() not in READ_METHODS else "no_token"
    if signed_in:
        return "ok"
    if given is None:
        return "no_token"
    return "ok" if hmac.compare_digest(given.encode(), token.encode()) else "bad_token"
