"""A socketserver on a background thread, stopped promptly and cleanly (the metrics endpoint
and the emulator both serve this way)."""

from __future__ import annotations

import functools
import ipaddress
import socketserver
import threading

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, nothing is bound


def is_wildcard_host(host: str) -> bool:
    """True for an address that means every address of the machine (``0.0.0.0``, ``::``)."""
    return host in WILDCARD_HOSTS


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses; False for any other host name, which
    may resolve to anything. The servers face no network unless told to."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_listen(listen: str, *, what: str, allow_remote: bool = False) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6]:port``); ``ValueError`` for anything else, or for a host
    off loopback unless ``allow_remote``. The one check: the config's validation and the
    listener that binds use it both (``check-config`` accepts exactly what ``run`` binds)."""
    host, sep, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{what} {listen!r} must be host:port, e.g. 127.0.0.1:9108")
    if not allow_remote and not is_loopback_host(host):
        raise ValueError(
            f"{what} {listen!r} is not a loopback address; the metrics name your folders,"
            " so serve them on 127.0.0.1 (or put a proxy in front)"
        )
    return host, int(port)


class BackgroundServer:
    """``start()`` serves on a daemon thread; ``stop()`` waits for requests in progress, joins
    the thread and closes the socket (idempotent). A short ``poll_s`` makes stop prompt."""

    def __init__(self, server: socketserver.BaseServer, *, name: str, poll_s: float) -> None:
        self._server = server
        serve = functools.partial(server.serve_forever, poll_interval=poll_s)
        self._thread = threading.Thread(target=serve, name=name, daemon=True)
        self._stopped = False

    def start(self) -> None:
        """Start serving on the background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wait for requests in progress, close the socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
