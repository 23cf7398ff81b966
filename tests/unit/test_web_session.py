"""The dashboard's sign-in, decided purely (web.session): a signed cookie that expires and can
be revoked, a CSRF token bound to it, where a browser says a request came from, and the limit
on failed sign-ins. A fake clock: times are plain numbers."""

from __future__ import annotations

from viggle_watch.web import session as s

KEY = s.session_key("the-token", b"salt")


def test_a_cookie_the_service_signed_is_good_until_it_expires() -> None:
    cookie = s.issue(KEY, now=1000.0, nonce="n1")
    assert s.verify(KEY, cookie, 1000.0 + s.SESSION_S - 1, frozenset()) == "n1"
    assert s.verify(KEY, cookie, 1000.0 + s.SESSION_S, frozenset()) is None
    assert s.expiry(cookie) == 1000.0 + s.SESSION_S


def test_a_forged_stretched_or_revoked_cookie_is_refused() -> None:
    cookie = s.issue(KEY, now=1000.0, nonce="n1")
    expires, nonce, mac = cookie.split(".")
    assert s.verify(KEY, f"{int(expires) + 99999}.{nonce}.{mac}", 1000.0, frozenset()) is None
    assert s.verify(s.session_key("another", b"salt"), cookie, 1000.0, frozenset()) is None
    assert s.verify(s.session_key("the-token", b"restart"), cookie, 1000.0, frozenset()) is None
    assert s.verify(KEY, cookie, 1000.0, frozenset({"n1"})) is None
    for junk in (None, "", "a.b", "x.y.z", "1.2.3.4", f"{expires}.{nonce}.\u00e9"):
        assert s.verify(KEY, junk, 1000.0, frozenset()) is None


def test_the_csrf_token_belongs_to_its_session() -> None:
    token = s.csrf_token(KEY, "n1")
    assert s.csrf_ok(KEY, "n1", token)
    assert not s.csrf_ok(KEY, "n2", token)
    assert not s.csrf_ok(KEY, "n1", None) and not s.csrf_ok(KEY, "n1", "")


def test_where_a_browser_says_a_request_came_from() -> None:
    here = "127.0.0.1:8378"
    assert not s.cross_site(None, "same-origin", here)
    assert not s.cross_site(None, "none", here)  # typed in the address bar
    assert s.cross_site(None, "same-site", here)  # another port of 127.0.0.1: not ours
    assert s.cross_site(None, "cross-site", here)
    assert not s.cross_site("http://127.0.0.1:8378", None, here)
    assert s.cross_site("http://127.0.0.1:9999", None, here)
    assert s.cross_site("null", None, here)  # a sandboxed page or a file://
    assert not s.cross_site(None, None, here)  # curl, a pipeline: judged by the token alone


def test_failed_sign_ins_make_an_address_wait() -> None:
    tries = s.Attempts()
    for i in range(s.FAILURES_ALLOWED):
        assert tries.wait_s("10.0.0.1", 100.0 + i) == 0
        tries.failed("10.0.0.1", 100.0 + i)
    assert tries.wait_s("10.0.0.1", 110.0) == 100.0 + s.FAILURE_WINDOW_S - 110.0
    assert tries.wait_s("10.0.0.2", 110.0) == 0  # another address is not held
    assert tries.wait_s("10.0.0.1", 100.0 + s.FAILURE_WINDOW_S + 0.5) == 0  # the oldest left
    tries.succeeded("10.0.0.1")
    assert "10.0.0.1" not in tries.failures


def test_failed_sign_ins_from_made_up_addresses_make_everyone_wait() -> None:
    """An address can be made up (a header through a proxy): past FAILURES_IN_ALL failures in
    the window from any addresses, every address waits."""
    tries = s.Attempts()
    for i in range(s.FAILURES_IN_ALL):
        tries.failed(f"10.0.{i}.1", 100.0)
    assert tries.wait_s("10.9.9.9", 101.0) == s.FAILURE_WINDOW_S - 1.0
    assert tries.wait_s("10.9.9.9", 100.0 + s.FAILURE_WINDOW_S) == 0


def test_a_revoked_nonce_is_forgotten_once_it_would_have_expired() -> None:
    revoked = s.Revoked()
    revoked.add("n1", expires=200.0, now=100.0)
    assert revoked.snapshot() == {"n1"}
    revoked.add("n2", expires=400.0, now=300.0)
    assert revoked.snapshot() == {"n2"}
