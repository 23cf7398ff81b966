"""The web listener's token and parts, checked without importing them (issue 18): what `run`
and `check-config` both ask — is the web extra installed, can the token be read, is it a
token worth the name. FastAPI is not imported here."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Final

from viggle_watch.config.web import WebSettings
from viggle_watch.errors import ConfigError
from viggle_watch.reading import read_regular
from viggle_watch.redaction import register_secret

PARTS: Final = ("fastapi", "uvicorn", "jinja2", "python_multipart")
INSTALL: Final = (
    "pip install 'viggle-watch[web]' (from a clone of the repository: pip install '.[web]')"
)
SHORTEST: Final = 16  # characters; `openssl rand -hex 32` makes 64


def missing_parts(find: Callable[[str], object | None] = importlib.util.find_spec) -> str | None:
    """Why `web:` cannot run here, in words (None: it can)."""
    gone = [p for p in PARTS if find(p) is None]
    if not gone:
        return None
    return f"web: is configured but {', '.join(gone)} is not installed: {INSTALL}"


def read_token(settings: WebSettings) -> str | None:
    """The token in ``web.token_file`` (None: no file configured, read-only); registered as a
    secret so that no log line shows it. Raises ``ConfigError`` saying what is wrong."""
    if settings.token_file is None:
        return None
    try:
        raw = read_regular(settings.token_file, 4096, follow_links=True)
    except OSError as exc:
        words = exc.strerror or str(exc)
        raise ConfigError(f"web.token_file {settings.token_file}: {words}") from None
    token = raw.decode("utf-8", "replace").strip()
    if not token:
        raise ConfigError(f"web.token_file {settings.token_file} is empty")
    register_secret(token)
    return token


def token_warnings(settings: WebSettings, token: str | None) -> list[str]:
    """What is weak about the token: too short to resist guessing, or readable by others."""
    if settings.token_file is None or token is None:
        return []
    said = []
    if len(token) < SHORTEST:
        said.append(
            f"web.token_file {settings.token_file} holds a token of {len(token)} characters:"
            f" make one of at least {SHORTEST} (openssl rand -hex 32)"
        )
    try:
        mode = settings.token_file.stat().st_mode
    except OSError:
        return said
    if mode & 0o077:
        said.append(
            f"web.token_file {settings.token_file} can be read by other users (mode"
            f" {mode & 0o777:04o}): chmod 600 it"
        )
    return said
