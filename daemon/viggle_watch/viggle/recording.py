"""Recordings of API exchanges (``api.record: DIR``, off by default): each call's method, path,
status, headers and JSON answer, one file each — redacted (no key, no signed URL tokens, never an
uploaded byte: a file part is recorded as its name and size). A recording a studio sends from the
real API is one file away from a regression test: ``tests/contract/recordings/`` holds them,
and a test replays each through the client (issue 15)."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from viggle_watch.redaction import redact_text, redact_url

SECRET_HEADERS: Final = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})
KEEP_BODY_CHARS: Final = 64 * 1024


@dataclass
class Exchange:
    method: str
    path: str  # without the query (its values may be tokens); the form's fields are kept
    status: int
    request: dict[str, Any] = field(default_factory=dict)  # form fields, files as name + size
    headers: dict[str, str] = field(default_factory=dict)  # the answer's, redacted
    answer: Any = None  # the JSON answer, or {"text": first characters} when it was not JSON


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


class Recorder:
    """Writes each exchange to ``folder`` as ``NNNNNN-METHOD-path.json``; thread-safe."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._count = itertools.count(1)
        self._lock = threading.Lock()
        self._stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())

    def record(
        self,
        method: str,
        url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        form: dict[str, Any] | None = None,
        files: dict[str, int] | None = None,
    ) -> None:
        path = redact_url(url).split("://", 1)[-1]
        path = "/" + path.split("/", 1)[1] if "/" in path else "/"
        path = path.split("?", 1)[0]
        try:
            answer: Any = json.loads(body) if body else None
        except ValueError:
            answer = {"text": body[:KEEP_BODY_CHARS].decode("utf-8", errors="replace")}
        exchange = Exchange(
            method,
            path,
            status,
            request={
                "form": {k: str(v) for k, v in (form or {}).items()},
                "files": {name: {"size": size} for name, size in (files or {}).items()},
            },
            headers={
                k: ("***" if k.lower() in SECRET_HEADERS else redact_text(v))
                for k, v in headers.items()
            },
            answer=_redacted(answer),
        )
        with self._lock:
            n = next(self._count)
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", path).strip("-")[:60]
        target = self._folder / f"{self._stamp}-{n:06d}-{method}-{slug}.json"
        target.write_text(json.dumps(asdict(exchange), indent=2) + "\n", encoding="utf-8")
