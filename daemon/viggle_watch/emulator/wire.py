"""Plain HTTP values between the emulator's WSGI edge (``emulator.py``) and everything else.

The edge parses a request (form, files, body) into an :class:`HttpRequest` and writes an
:class:`HttpResponse` back, so werkzeug stays in one module and the routes are plain code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Upload:
    """One file part of a multipart form."""

    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A fully read request. ``headers`` keys are lower-case; ``body`` is empty for forms."""

    method: str
    path: str
    url_root: str
    """``http://host:port`` as the client addressed the emulator."""
    host: str
    """The ``Host`` the client sent (``127.0.0.1:PORT``)."""
    server_port: int
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, Upload] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (any case), or None."""
        return self.headers.get(name.lower())

    def json(self) -> object:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What to send back. ``cut_after`` sends only that many body bytes (after a full
    ``Content-Length``) and then closes the connection; ``drop`` sends nothing at all."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    cut_after: int | None = None
    drop: bool = False


def json_response(
    body: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> HttpResponse:
    """A JSON response."""
    return HttpResponse(status, json.dumps(body).encode(), headers=headers)


DROPPED = HttpResponse(0, drop=True)
"""Close the connection without answering (the request was read and acted on)."""
