"""A socketserver on a background thread, stopped promptly and cleanly (the metrics endpoint
and the emulator both serve this way)."""

from __future__ import annotations

import functools
import ipaddress
import socketserver
import threading


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses; False for any other host name, which
    may resolve to anything. The servers face no network unless told to."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
