"""The web listener: the FastAPI app on uvicorn, on a thread of the service's process, started
and stopped with the service (issue 18). Imported only when ``web`` is configured, so the
service without it keeps its idle figures."""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Final

import uvicorn
from fastapi import FastAPI

from viggle_watch.errors import ConfigError, NotReadyError, ViggleWatchError

START_TIMEOUT_S: Final = 10.0


class RunningWeb:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,  # an open event stream does not hold the stop up
        )
        self._server = uvicorn.Server(config)
        self._where = (host, port)
        self._thread: threading.Thread | None = None
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def start(self) -> None:
        """Serve; a listener that cannot bind is an error at start, in words: a port taken is
        a passing problem (exit 75: try again), a wrong address is the config's."""
        host, port = self._where
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            listening = _listen(host, port, family)
        except OSError as exc:
            words = f"web: cannot listen on {self.address}: {exc.strerror or exc}"
            if exc.errno == errno.EADDRINUSE:
                raise NotReadyError(words + " (another program has that port)") from None
            raise ConfigError(words) from None
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listening]}, name="web", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ViggleWatchError(f"web: cannot listen on {self.address}")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_S)


def _listen(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
    """The listening socket, made here so that a bind error is ours to word. Its protocol is
    named (IPPROTO_TCP): asyncio sets TCP_NODELAY on the connections only then — without it
    every answer waited ~40 ms on the client's delayed ACK."""
    made = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        made.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        made.bind((host, port))
        made.listen(2048)
    except OSError:
        made.close()
        raise
    return made
