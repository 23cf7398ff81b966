"""The service's logs, captured by a test or a drill: JSON lines into a stream of the caller's;
the logging set-up (the root handlers and level, the noisy libraries' levels, structlog's
configuration) put back as it was afterwards."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Final, TextIO, TypeVar

import structlog

from viggle_watch.logs import configure_logging

NOISY_LOGGERS: Final = (
    "apscheduler",
    "apscheduler.scheduler",
    "watchdog",
    "urllib3",
    "werkzeug",
    "PIL",
)
"""The loggers ``configure_logging`` turns down: their levels are put back too."""

Stream = TypeVar("Stream", bound=TextIO)


@contextlib.contextmanager
def logs_into(stream: Stream, level: int = logging.INFO) -> Iterator[Stream]:
    """``configure_logging("json", level, stream)`` for the block; the old set-up after it."""
    root = logging.getLogger()
    saved_structlog = structlog.get_config()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    configure_logging(fmt="json", level=level, stream=stream)
    try:
        yield stream
    finally:
        structlog.configure(**saved_structlog)
        for handler in list(root.handlers):
            root.removeHandler(handler)
            if handler not in saved_handlers:
                handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for name, old in saved_levels.items():
            logging.getLogger(name).setLevel(old)
