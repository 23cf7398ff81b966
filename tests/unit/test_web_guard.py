"""Who may do what over HTTP (issue 18), pure: the Host check, the bearer token, read-only
without a token, open reads only on loopback; and a listener off loopback needs a token."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from viggle_watch.config.web import WebSettings
from viggle_watch.web.guard import bearer, host_allowed, judge

LISTEN = ("127.0.0.1", 8378)


def test_the_host_must_name_this_listener() -> None:
    assert host_allowed("127.0.0.1:8378", LISTEN, [])
    assert host_allowed("localhost:8378", LISTEN, [])
    assert not host_allowed("localhost:9999", LISTEN, [])
    assert not host_allowed("evil.example", LISTEN, [])
    assert not host_allowed(None, LISTEN, [])
    assert host_allowed("nas.lan:8378", LISTEN, ["nas.lan"])
    assert host_allowed("NAS.LAN", LISTEN, ["nas.lan"])


def test_any_name_off_loopback_only() -> None:
    """`*` in web.hosts (a container's published port: names and ports the service cannot know)
    takes any Host, but a Host is still needed; on a loopback listener it is a config error."""
    wild = ("0.0.0.0", 8080)  # noqa: S104 - a listen address in data, nothing is bound
    assert host_allowed("nas.lan:18080", wild, ["*"]) and host_allowed("10.0.0.5", wild, ["*"])
    assert not host_allowed(None, wild, ["*"]) and not host_allowed("nas.lan:18080", wild, [])
    assert not host_allowed("evil.test:8378", LISTEN, ["*"])  # never on loopback
    token = {"token_file": "/config/web-token"}
    assert WebSettings.model_validate({"listen": "0.0.0.0:8080", "hosts": ["*"], **token})
    with pytest.raises(ValidationError, match=r"only for a listener off loopback"):
        WebSettings.model_validate({"listen": "127.0.0.1:8378", "hosts": ["*"], **token})


def test_the_bearer_token() -> None:
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None and bearer(None) is None and bearer("Bearer ") is None


@pytest.mark.parametrize(
    ("method", "token", "given", "open_reads", "loopback", "verdict"),
    [
        ("GET", None, None, True, True, "ok"),
        ("GET", None, None, False, True, "no_token"),
        ("GET", None, None, True, False, "no_token"),  # reads off loopback need the token
        ("POST", None, None, True, True, "read_only"),
        ("POST", "t", None, True, True, "no_token"),
        ("POST", "t", "x", True, True, "bad_token"),
        ("POST", "t", "t", True, True, "ok"),
        ("GET", "t", "t", False, False, "ok"),
    ],
)
def test_who_may_do_what(
    method: str,
    token: str | None,
    given: str | None,
    open_reads: bool,
    loopback: bool,
    verdict: str,
) -> None:
    assert (
        judge(method, token=token, given=given, open_reads=open_reads, loopback=loopback) == verdict
    )


def test_a_listener_off_loopback_needs_a_token() -> None:
    with pytest.raises(ValidationError, match=r"needs web\.token_file"):
        WebSettings.model_validate({"listen": "0.0.0.0:8378"})
    assert WebSettings.model_validate({"listen": "127.0.0.1:8378"}).address == LISTEN


def test_a_request_by_a_proxy_name_is_from_the_network() -> None:
    """Reads by way of one of `web.hosts` (a reverse proxy's name) need the token, even when
    the listener itself is on loopback."""
    from viggle_watch.web.guard import named_elsewhere

    assert named_elsewhere("nas.lan:8378", ["nas.lan"]) and named_elsewhere("NAS.LAN", ["nas.lan"])
    assert not named_elsewhere("127.0.0.1:8378", ["nas.lan"]) and not named_elsewhere(None, [])


def test_the_listening_socket_names_tcp_so_answers_are_not_delayed() -> None:
    """asyncio sets TCP_NODELAY on a connection only when the listener names IPPROTO_TCP;
    without it each answer waited for the client's delayed ACK (~40 ms, seen in bench/web.py)."""
    import socket

    from viggle_watch.web.server import _listen

    made = _listen("127.0.0.1", 0, socket.AF_INET)
    try:
        assert made.proto == socket.IPPROTO_TCP
    finally:
        made.close()
