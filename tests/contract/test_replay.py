"""Every recording under ``tests/contract/recordings/`` (``api.record`` files: the emulator's,
and any a studio sends from the real API) replayed through the client: a tiny server on
127.0.0.1 answers the recorded status, headers and body, and the client's call for that path
either reads it or fails with an ``ApiError`` that says why — never another exception (which
would crash a tick). Drop a new recording in the folder: it is a test."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from viggle_watch.apikey import ApiKey
from viggle_watch.errors import ApiError
from viggle_watch.media.synth import make_character_png
from viggle_watch.viggle.client import Timeouts, ViggleClient
from viggle_watch.viggle.inputs import IdsInput, RenderOptions

RECORDINGS = sorted((Path(__file__).parent / "recordings").glob("*.json"))


class Replay(BaseHTTPRequestHandler):
    recording: ClassVar[dict[str, Any]] = {}

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        answer = self.recording["answer"]
        if isinstance(answer, dict) and set(answer) == {"text"}:
            body, kind = answer["text"].encode(), "text/html"
        else:
            body, kind = (
                (b"" if answer is None else json.dumps(answer).encode()),
                "application/json",
            )
        self.send_response(self.recording["status"])
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer  # noqa: N815 - http.server's names

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def replaying() -> Iterator[Callable[[dict[str, Any]], ViggleClient]]:
    httpd = HTTPServer(("127.0.0.1", 0), Replay)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()

    def client(recording: dict[str, Any]) -> ViggleClient:
        Replay.recording = recording
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        return ViggleClient(url, ApiKey("sk-replay-key"), timeouts=Timeouts(get_attempts=1))

    yield client
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def call_for(client: ViggleClient, method: str, path: str, tmp: Path) -> Callable[[], object]:
    """The client's call that makes this request."""
    tail = path.rsplit("/", 1)[-1]
    calls: dict[tuple[str, str], Callable[[], object]] = {
        ("GET", "/api/credits"): client.credits,
        ("GET", "/api/characters"): lambda: client.list_characters(limit=1),
        ("GET", "/api/scenes"): lambda: client.list_scenes(limit=1),
        ("POST", "/api/render"): lambda: client.render(IdsInput("c1", "s1"), RenderOptions()),
        ("POST", "/api/scenes/import"): lambda: client.import_template("t1"),
        ("POST", "/api/characters/preprocess"): lambda: client.create_character(
            "hero", make_character_png(tmp / "hero.png")
        ),
    }
    if (method, path) in calls:
        return calls[(method, path)]
    prefix = path.rsplit("/", 1)[0]
    by_id: dict[tuple[str, str], Callable[[], object]] = {
        ("GET", "/api/render"): lambda: client.get_render(tail),
        ("DELETE", "/api/render"): lambda: client.cancel_render(tail),
        ("GET", "/api/characters"): lambda: client.get_character(tail),
        ("GET", "/api/scenes"): lambda: client.get_scene(tail),
    }
    return by_id[(method, prefix)]


def test_there_are_recordings() -> None:
    assert len(RECORDINGS) >= 12


@pytest.mark.parametrize("recorded", RECORDINGS, ids=lambda p: p.name.split("-", 2)[-1])
def test_a_recording_is_read_or_fails_with_a_reason(
    recorded: Path, replaying: Callable[[dict[str, Any]], ViggleClient], tmp_path: Path
) -> None:
    recording = json.loads(recorded.read_text(encoding="utf-8"))
    assert "sk-" not in recorded.read_text(encoding="utf-8")  # recordings keep no key
    client = replaying(recording)
    call = call_for(client, recording["method"], recording["path"], tmp_path)
    try:
        call()
    except ApiError as exc:  # a reason in words: that call failed, nothing else
        assert str(exc)
