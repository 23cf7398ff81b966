"""A TCP forwarder on 127.0.0.1 in front of a PostgreSQL server, that a test can cut: a blip
of the store (issue 19) without stopping the server the other tests share.

``cut()`` closes every connection through it, both ends (the server ends those sessions, as
when it restarts), and refuses new ones until ``restore()``: a client sees exactly what a
stopped server does to it — a lost connection, then connections that fail at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

CHUNK = 64 * 1024


class PgProxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        user, at, _ = parts.netloc.rpartition("@")
        self.url = urlunsplit(parts._replace(netloc=f"{user}{at}127.0.0.1:{port}"))
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._pumps: list[threading.Thread] = []
        self._up = True
        self._closing = False
        self.cuts = 0
        self._acceptor = threading.Thread(target=self._accept, name="pgproxy", daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        """The store goes away: every connection through the proxy is closed, new ones fail."""
        with self._lock:
            self._up = False
            self.cuts += 1
            dropped, self._open = self._open, set()
        for sock in dropped:
            _close(sock)

    def restore(self) -> None:
        """The store is back: new connections go through again."""
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._closing = True
        self.cut()
        _close(self._listener)
        self._acceptor.join(timeout=5)
        for pump in self._pumps:
            pump.join(timeout=5)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up and not self._closing
            if not up:
                _close(client)
                continue
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open |= {client, server}
                self._pumps = [p for p in self._pumps if p.is_alive()]
                for src, dst in ((client, server), (server, client)):
                    pump = threading.Thread(target=_pump, args=(src, dst), daemon=True)
                    self._pumps.append(pump)
                    pump.start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(CHUNK):
            dst.sendall(data)
    except OSError:
        pass
    _close(src)
    _close(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def proxied(url: str) -> Iterator[PgProxy]:
    """A cuttable way to the database at ``url`` (``proxy.url``), closed after the block."""
    proxy = PgProxy(url)
    try:
        yield proxy
    finally:
        proxy.close()
