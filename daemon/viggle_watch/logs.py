"""structlog setup (console on a terminal, JSON lines otherwise) and the redaction processor."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor

from viggle_watch.redaction import REDACTED, redact_text

LogFormat = Literal["auto", "console", "json"]


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
