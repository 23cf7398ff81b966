"""Secrets out of text: registered secrets (the API key, webhook secrets), bearer tokens,
key-like strings, passwords in URLs and URL query strings (signed result URLs); a webhook's URL
shown only as where it goes. Light on
purpose (no logging library): the config's errors and a quick command's answers use it too."""

from __future__ import annotations

import re
import threading
from typing import Final

REDACTED: Final = "***"
_BEARER: Final = re.compile(r"(?i)(bearer\s+)[^\s'\",]+")
_KEYLIKE: Final = re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}")
_URL_QUERY: Final = re.compile(r"(https?://[^\s?#'\"]+)\?[^\s#'\"]*")
_USERINFO: Final = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/:@\s]+):[^@/\s]+@")
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Redact ``value`` wherever it would appear in a log line from now on."""
    if value:
        with _secrets_lock:
            _secrets.add(value)


def redact_url(url: str) -> str:
    """A URL with its query string (signatures, tokens) replaced."""
    return _URL_QUERY.sub(rf"\1?{REDACTED}", url)


def webhook_shown(url: str) -> str:
    """A webhook URL as logs and answers show it: where it goes (scheme, host, port), never
    what authorises it — a token may be in the query, the user part, or the path itself
    (Slack's and Discord's webhook URLs are their own secret)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return REDACTED
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    hidden = rest != host
    return f"{scheme}://{host}/{REDACTED}" if hidden else f"{scheme}://{host}"


def redact_text(text: str) -> str:
    """Remove registered secrets, bearer tokens, key-like strings and URL query strings."""
    with _secrets_lock:
        secrets = list(_secrets)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _KEYLIKE.sub(REDACTED, text)
    text = _USERINFO.sub(rf"\1:{REDACTED}@", text)  # postgresql://user:password@host
    return _URL_QUERY.sub(rf"\1?{REDACTED}", text)
