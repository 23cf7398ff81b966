"""Media work in a short-lived child process (``python -m viggle_watch.media.…``): the service
never maps PyAV, and a child that crashes or hangs costs only its own try. Each child prints
one JSON document (``{"error": …}`` when it failed); a failure here is a ``DownloadError``, so
the job keeps its download and is tried again with backoff, as for a full disk."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import threading
import time
import weakref
from typing import Any, Final

from viggle_watch.apikey import child_env
from viggle_watch.children import child_command
from viggle_watch.errors import DownloadError

CHILD_TIMEOUT_S: Final = 300.0


def run_child(
    module: str, args: list[str], *, what: str, timeout_s: float = CHILD_TIMEOUT_S
) -> dict[str, Any]:
    """Run ``viggle_watch.media.MODULE``'s ``main(ARGS)`` in a child; its JSON answer.
    ``what`` names the work in the error ("the poster could not be made: …")."""
    command = child_command(f"viggle_watch.media.{module}", args)
    try:
        done = subprocess.run(  # noqa: S603 - our own module; paths are single argv items
            command, env=child_env(), capture_output=True, timeout=timeout_s, check=False
        )
        said: dict[str, Any] = json.loads(done.stdout or b"{}")
    except subprocess.TimeoutExpired:
        raise DownloadError(f"{what}: the child took over {timeout_s:.0f} s") from None
    except (OSError, ValueError) as exc:
        raise DownloadError(f"{what}: {exc}") from None
    if done.returncode != 0 or "error" in said:
        raise DownloadError(f"{what}: {said.get('error', f'exit status {done.returncode}')}")
    return said


class MediaWorker:
    """The parent of ``media.worker``: started on the first request, asked one request at a
    time, started again when it has exited (idle, or crashed), killed when it takes longer than
    ``timeout_s``. Safe to share between threads; ``close()`` ends it (so does dropping it)."""

    def __init__(self, *, idle_s: float = 30.0) -> None:
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, MediaWorker] | None = None

    def ask(
        self, args: list[str], *, what: str, timeout_s: float = CHILD_TIMEOUT_S
    ) -> dict[str, Any]:
        """The worker's JSON answer to ``args``; a ``DownloadError`` (saying ``what``) when it
        fails, hangs or dies."""
        with self._lock:
            for attempt in (1, 2):
                proc = self._running()
                try:
                    assert proc.stdin is not None
                    proc.stdin.write((json.dumps(args) + "\n").encode())
                    proc.stdin.flush()
                    line = _read_line(proc, timeout_s)
                except BrokenPipeError:
                    line = None
                if line is None and attempt == 1 and _exit_status(proc) == 0:
                    continue  # it had just exited, idle: a new one takes the request
                if line is None:
                    self._stop()
                    raise DownloadError(f"{what}: the measuring child stopped or hung")
                try:
                    said: dict[str, Any] = json.loads(line)
                except ValueError:
                    said = {}
                if said.get("for") != args:  # not this request's answer: start afresh
                    self._stop()
                    raise DownloadError(f"{what}: the measuring child answered out of turn")
                if "error" in said:
                    raise DownloadError(f"{what}: {said['error']}")
                return said
        raise AssertionError("unreachable")

    def _running(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        self._proc = subprocess.Popen(  # noqa: S603 - our own module
            child_command("viggle_watch.media.worker", [str(self._idle_s)]),
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._finalizer = weakref.finalize(self, _end, self._proc)
        return self._proc

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # ends and reaps the child (once)
        self._proc, self._finalizer = None, None

    def close(self) -> None:
        with self._lock:
            self._stop()


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float) -> bytes | None:
    """One line from the child's stdout, or None (it closed it, or ``timeout_s`` passed)."""
    assert proc.stdout is not None
    fd, got = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout_s
    while not got.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        got += chunk
    return got


def _exit_status(proc: subprocess.Popen[bytes]) -> int | None:
    """The child's exit status, waiting a moment for one that is exiting; None if it runs."""
    try:
        return proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        return None


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Close the child's pipes (it exits on its stdin's end), kill it if it does not, reap."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
