"""A result URL's redirects are held to the result-URL rule hop by hop (issue 14 §12): a
redirect to plain http off loopback (or to any other scheme) is refused before a request is
made to it, and nothing is written; a redirect that stays within the rule is followed."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from viggle_watch.apikey import ApiKey
from viggle_watch.errors import DownloadError
from viggle_watch.viggle.client import ViggleClient

BODY = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


class Redirector(BaseHTTPRequestHandler):
    """/to?u=URL answers 302 to URL; /video answers the body."""

    def do_GET(self) -> None:
        if self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/to/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), Redirector)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "target", ["http://192.0.2.7/video.mp4", "ftp://127.0.0.1/video.mp4", "file:///etc/passwd"]
)
def test_a_redirect_that_breaks_the_rule_is_refused(server: str, target: str) -> None:
    """192.0.2.7 is a documentation address: refused before any connection is tried."""
    client = ViggleClient(server, ApiKey("sk-test-key"))
    out = io.BytesIO()
    with pytest.raises(DownloadError, match="refusing a non-https download URL"):
        client.download(f"{server}/to/{target}", out, max_bytes=1 << 20)
    assert out.getvalue() == b""


def test_a_redirect_within_the_rule_is_followed(server: str) -> None:
    client = ViggleClient(server, ApiKey("sk-test-key"))
    out = io.BytesIO()
    got = client.download(f"{server}/to/{server}/video", out, max_bytes=1 << 20)
    assert (got.size, out.getvalue()) == (len(BODY), BODY)


def test_endless_redirects_end(server: str) -> None:
    client = ViggleClient(server, ApiKey("sk-test-key"))
    loop = f"{server}/to/" * 8 + f"{server}/video"
    with pytest.raises(DownloadError, match="redirected more than"):
        client.download(loop, io.BytesIO(), max_bytes=1 << 20)
