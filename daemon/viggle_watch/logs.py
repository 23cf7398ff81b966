"""structlog setup (console on a terminal, JSON lines otherwise) and the redaction processor."""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor

LogFormat = Literal["auto", "console", "json"]
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


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if str(k).lower() == "authorization" else _redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return redact_text(str(value))
    return value


def redact(_logger: Any, _name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: scrub every value of the event (the last line of defence)."""
    out: MutableMapping[str, Any] = event_dict
    for key in list(out):
        out[key] = REDACTED if key.lower() == "authorization" else _redact_value(out[key])
    return event_dict


def _renderer(fmt: LogFormat, stream: TextIO) -> Processor:
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    if use_console:
        return structlog.dev.ConsoleRenderer(colors=stream.isatty())
    return structlog.processors.JSONRenderer()


_PRIORITIES: Final = ((logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))


class _JournalPriority(logging.Formatter):
    """Under journald each line starts with its syslog priority (``<4>`` for a warning, as
    sd-daemon(3) says), so ``journalctl -p warning`` shows warnings and worse."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        level = next((p for at, p in _PRIORITIES if record.levelno >= at), 7)
        return f"<{level}>{self._inner.format(record)}"


def _to_journal(stream: TextIO) -> bool:
    """``stream`` is the journal's own (``$JOURNAL_STREAM`` names its device and inode)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(device), int(inode))
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def configure_logging(
    fmt: LogFormat = "auto", level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Route structlog and the stdlib loggers (watchdog, apscheduler, urllib3) to one renderer."""
    out = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    formatter: logging.Formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(fmt, out),
        ],
    )
    handler.setFormatter(_JournalPriority(formatter) if _to_journal(out) else formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("apscheduler", "watchdog", "urllib3", "werkzeug", "PIL"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # "skipped: maximum number of running instances reached" is how ticks avoid overlapping
    logging.getLogger("apscheduler.scheduler").setLevel(max(level, logging.ERROR))
