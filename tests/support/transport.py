"""A ViggleClient over a scripted transport: no network, every request recorded.

``rig`` is a client on http://api.test whose every request (to the API and to the CDN hosts)
goes to a :class:`FakeTransport` answering with the replies queued on it (``respond(...)``, or
an exception such as ``connect_refused()``); its backoff sleeps are recorded, not slept.
``inputs`` is a character image and a driving video (bytes only; the client does not decode).
"""

from __future__ import annotations

import io
import json
import socket
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from viggle_watch.apikey import ApiKey
from viggle_watch.errors import ApiError
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.schemas import RenderCreated

BASE = "http://api.test"
CDN = "https://cdn.test"
KEY = "vk-live-0123456789abcdef"  # deliberately not sk-like: redaction must not be what hides it
Reply: TypeAlias = Callable[[requests.PreparedRequest], requests.Response] | BaseException


def respond(
    status: int,
    body: object = None,
    *,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A canned answer: ``body`` as JSON (or ``raw`` bytes) with ``status`` and ``headers``."""
    content = raw if raw is not None else json.dumps(body).encode()

    def build(request: requests.PreparedRequest) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp.headers.update(headers or {})
        resp.raw = io.BytesIO(content)
        resp.url = request.url or ""
        resp.request = request
        return resp

    return build


@dataclass
class Sent:
    """What the client handed to the transport."""

    request: requests.PreparedRequest
    timeout: object
    body: bytes  # what went over the wire (a streamed body read as a real adapter would)
    streamed: bool  # the body was read from its source while it was sent, not held whole


class FakeTransport(BaseAdapter):
    """Answers each request with the next canned reply and records what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: deque[Reply] = deque()
        self.sent: list[Sent] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        body = request.body
        streamed = hasattr(body, "read")
        data = body.read() if streamed else body  # type: ignore[union-attr]
        raw = data.encode() if isinstance(data, str) else (data or b"")
        self.sent.append(Sent(request, timeout, raw, streamed))
        reply = self.replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        return reply(request)

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class Rig:
    """A client wired to a fake transport, with its recorded sleeps."""

    client: ViggleClient
    transport: FakeTransport
    sleeps: list[float] = field(default_factory=list)

    def queue(self, *replies: Reply) -> None:
        self.transport.replies.extend(replies)

    @property
    def urls(self) -> list[str | None]:
        return [s.request.url for s in self.transport.sent]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """A ViggleClient on http://api.test whose every request goes to a FakeTransport."""
    session = requests.Session()
    sleeps: list[float] = []
    client = ViggleClient(BASE, ApiKey(KEY), session=session, sleep=sleeps.append)
    transport = FakeTransport()
    # mounted after the client mounts its own adapters on http:// and https://; longest wins
    for prefix in (BASE, CDN, "http://127.0.0.1", "http://cdn.test"):
        session.mount(prefix, transport)
    yield Rig(client, transport, sleeps)
    session.close()


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A character image and a driving video (bytes only; the client does not decode)."""
    image, video = tmp_path / "hero.png", tmp_path / "dance.mp4"
    image.write_bytes(b"\x89PNG" + b"i" * (256 * 1024 - 4))
    video.write_bytes(b"v" * (768 * 1024))
    return image, video


def render(rig: Rig, inputs: tuple[Path, Path]) -> RenderCreated:
    """The paid POST /api/render."""
    return rig.client.create_render(*inputs, model="V4_Preview")


def summary(exc: ApiError) -> tuple[type[ApiError], str, str | None, str | None, int | None]:
    """The fields a caller branches on or shows."""
    return type(exc), exc.message, exc.code, exc.action, exc.http_status


def connect_refused() -> requests.ConnectionError:
    """What requests raises when the TCP connect is refused (never sent)."""
    conn = HTTPConnection("api.test", 80)
    reason = NewConnectionError(conn, "Failed to establish a new connection: [Errno 111]")
    return requests.ConnectionError(MaxRetryError(HTTPConnectionPool("api.test"), "/", reason))


def dns_failure() -> requests.ConnectionError:
    """What requests raises when the host name does not resolve (never sent)."""
    conn = HTTPConnection("api.test", 80)
    reason = NameResolutionError("api.test", conn, socket.gaierror(-2, "Name or service unknown"))
    return requests.ConnectionError(MaxRetryError(HTTPConnectionPool("api.test"), "/", reason))


def reset_after_send() -> requests.ConnectionError:
    """What requests raises when the server drops the connection mid-answer (maybe acted)."""
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    return requests.ConnectionError(reason)
