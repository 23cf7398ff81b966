"""The real :class:`ViggleClient` against an emulator on 127.0.0.1 whose clock is a
:class:`~tests.support.emulator.FakeClock`: jobs and assets move only when a test advances it,
so nothing sleeps.

The client tests take the emulator fixtures (``clock``, ``start``, ``emu``) from
``tests.support.emulator``, and ``session``, ``client_media`` and ``client`` (the real client on
``emu``) from here.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.emulator import ASSET_DELAY_S, LATENCY_S, FakeClock
from viggle_watch.apikey import ApiKey
from viggle_watch.emulator.server import RunningEmulator
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.viggle.client import Downloaded, Timeouts, ViggleClient
from viggle_watch.viggle.schemas import RenderStatus

KEY = "sk-client-contract-key"
MAX_BYTES = 16 * 1024 * 1024
DRIVING_S = 2.0
"""Length of the driving video: an on-demand render's output is as long."""
DUO_TEMPLATE = "770e8400-e29b-41d4-a716-446655440000"
DUO_SEGMENTS = ["person_a1b2c3d4", "person_e5f6a7b8"]
DUO_S = 6.0
TIMEOUTS = Timeouts(connect_s=5.0, read_s=15.0)


@dataclass(frozen=True)
class ClientMedia:
    """A real PNG character and a real 2 s MP4, on disk and as bytes."""

    png: Path
    mp4: Path

    @property
    def png_bytes(self) -> bytes:
        """The PNG's bytes."""
        return self.png.read_bytes()

    @property
    def mp4_bytes(self) -> bytes:
        """The MP4's bytes."""
        return self.mp4.read_bytes()

    @staticmethod
    def make(folder: Path) -> ClientMedia:
        """Write the media into ``folder``."""
        png = make_character_png(folder / "hero.png")
        mp4 = make_driving_mp4(folder / "dance.mp4", seconds=DRIVING_S)
        return ClientMedia(png, mp4)


class CountingSession(requests.Session):
    """A ``requests.Session`` that records ``(method, path)`` of every request it sends and
    the HTTP status of every response it got."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []
        self.statuses: list[int] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        """Record the request, send it, record the response's status (every request that is
        sent passes here, however it was made; each redirect hop too)."""
        self.sent.append((str(request.method).upper(), urlsplit(str(request.url)).path))
        response = super().send(request, **kwargs)
        self.statuses.append(response.status_code)
        return response


@pytest.fixture
def session() -> Iterator[CountingSession]:
    """A counting session, closed after the test."""
    with CountingSession() as counting:
        yield counting


@pytest.fixture(scope="module")
def client_media(tmp_path_factory: pytest.TempPathFactory) -> ClientMedia:
    """A PNG character and a 2 s MP4, made once per test module."""
    return ClientMedia.make(tmp_path_factory.mktemp("client-media"))


def make_client(
    url: str,
    session: requests.Session,
    *,
    key: str = KEY,
    timeouts: Timeouts = TIMEOUTS,
    sleep: Callable[[float], None] = lambda s: None,
) -> ViggleClient:
    """A ViggleClient on ``url``; its backoff sleeps are no-ops unless ``sleep`` is given."""
    return ViggleClient(url, ApiKey(key), session=session, timeouts=timeouts, sleep=sleep)


def ready_assets(clock: FakeClock) -> None:
    """Move the fake clock past the asset delay: characters and scenes become ready."""
    clock.advance(ASSET_DELAY_S)


def finished(client: ViggleClient, clock: FakeClock, job_id: str) -> RenderStatus:
    """Move the fake clock past any render latency and return the job's status."""
    clock.advance(LATENCY_S * 2)
    return client.get_render(job_id)


def fetch(client: ViggleClient, url: str) -> tuple[bytes, Downloaded]:
    """Download ``url`` with the client into memory; the bytes and the client's summary."""
    out = io.BytesIO()
    summary = client.download(url, out, max_bytes=MAX_BYTES)
    return out.getvalue(), summary


def calls(emu: RunningEmulator) -> dict[str, int]:
    """The emulator's per-endpoint call counts (read in-process: not counted itself)."""
    return emu.emulator.stats()["calls"]


@pytest.fixture
def client(emu: RunningEmulator, session: CountingSession) -> ViggleClient:
    """The real client on ``emu``."""
    return make_client(emu.url, session)


def ready_character(client: ViggleClient, clock: FakeClock, client_media: ClientMedia) -> str:
    """Preprocess a character from the PNG and wait (fake clock) until it is ready."""
    created = client.create_character("hero", client_media.png)
    ready_assets(clock)
    assert client.get_character(created.id).status == "ready"
    return created.id
