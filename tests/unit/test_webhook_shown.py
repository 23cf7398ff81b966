"""A webhook URL in logs and in `check-config` shows where it goes, never what authorises it:
the token may be in the query, the user part or the path (Slack's and Discord's are)."""

from __future__ import annotations

import pytest

from viggle_watch.redaction import webhook_shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/***"),
        ("https://discord.com/api/webhooks/123/ABCSECRET", "https://discord.com/***"),
        ("https://tok3nonly@example.org/x", "https://example.org/***"),
        ("https://user:pw@example.org:8443", "https://example.org:8443/***"),
        ("http://127.0.0.1:9000/hook?token=abc#frag", "http://127.0.0.1:9000/***"),
        ("https://example.org", "https://example.org"),
        ("not a url", "***"),
    ],
)
def test_only_where_it_goes(url: str, shown: str) -> None:
    assert webhook_shown(url) == shown
