"""Tests for viggle_watch.logs: redaction of secrets, and JSON logging that never prints them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tests.support.logs import logs_into
from viggle_watch import redaction
from viggle_watch.logs import redact
from viggle_watch.redaction import redact_text, redact_url, register_secret

KEY = "vk-live-0123456789abcdef"  # not sk-like: only registration can hide it


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no registered secrets and leaves none behind."""
    monkeypatch.setattr(redaction, "_secrets", set())


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """configure_logging(fmt="json") into a StringIO; stdlib and structlog reset afterwards."""
    with logs_into(io.StringIO()) as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The JSON lines written so far, without their (time-dependent) timestamps."""
    out = []
    for line in stream.getvalue().splitlines():
        doc = json.loads(line)
        assert isinstance(doc, dict)
        doc.pop("timestamp")
        out.append(doc)
    return out


# --- redact_text ---------------------------------------------------------------------------


def test_redact_text_removes_registered_secrets() -> None:
    """A registered key is replaced wherever it appears; nothing else changes."""
    register_secret(KEY)
    assert redact_text(f"key={KEY}; again {KEY}!") == "key=***; again ***!"


def test_register_secret_ignores_the_empty_string() -> None:
    """Registering "" must not turn every gap into stars."""
    register_secret("")
    assert redact_text("plain text") == "plain text"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"),
        ("{'Authorization': 'bearer tok123'}", "{'Authorization': 'bearer ***'}"),
        ("using sk-live_ABCdef123456 now", "using *** now"),
        ("sk-abc", "sk-abc"),  # too short to be a key
        ("task-manager", "task-manager"),
        (
            "GET https://cdn.test/r.mp4?X-Amz-Signature=abc&Expires=1 failed",
            "GET https://cdn.test/r.mp4?*** failed",
        ),
        ("see http://127.0.0.1:8000/a?b=c#frag", "see http://127.0.0.1:8000/a?***#frag"),
        ("https://cdn.test/no-query.mp4", "https://cdn.test/no-query.mp4"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact_text_removes_tokens_keys_and_url_queries(text: str, clean: str) -> None:
    """Bearer tokens, sk-... keys and URL query strings are starred out."""
    assert redact_text(text) == clean


def test_redact_url_replaces_only_the_query() -> None:
    """Scheme, host and path stay readable; the signature goes."""
    assert redact_url("https://cdn.test/a/b.mp4?sig=1&exp=2") == "https://cdn.test/a/b.mp4?***"


# --- the structlog processor ---------------------------------------------------------------


def test_redact_processor_scrubs_nested_values_and_authorization_keys() -> None:
    """Dicts, lists and tuples are walked; any ``authorization`` key loses its value."""
    register_secret(KEY)
    event: dict[str, Any] = {
        "event": f"calling with {KEY}",
        "Authorization": "Bearer x",
        "request": {
            "headers": {"authorization": "anything", "Accept": "application/json"},
            "urls": ["https://cdn.test/r.mp4?sig=1", ("plain", f"k={KEY}")],
        },
        "count": 3,
        "error": ValueError(f"bad key {KEY}"),
        "missing": None,
    }
    assert redact(None, "info", event) == {
        "event": "calling with ***",
        "Authorization": "***",
        "request": {
            "headers": {"authorization": "***", "Accept": "application/json"},
            "urls": ["https://cdn.test/r.mp4?***", ["plain", "k=***"]],
        },
        "count": 3,
        "error": "bad key ***",
        "missing": None,
    }


# --- configure_logging end to end ----------------------------------------------------------


def test_json_log_line_never_contains_key_header_or_signed_url(json_log: io.StringIO) -> None:
    """A structlog event carrying the key, an Authorization header and a signed URL is clean."""
    register_secret(KEY)
    log = structlog.get_logger("viggle")
    log.info(
        "render_submitted",
        job_id=7,
        note=f"sent with {KEY}",
        headers={"Authorization": f"Bearer {KEY}", "User-Agent": "viggle-watch/0.1"},
        result_url="https://cdn.test/r.mp4?X-Amz-Signature=deadbeef",
    )
    text = json_log.getvalue()
    assert (KEY in text, "deadbeef" in text, lines(json_log)) == (
        False,
        False,
        [
            {
                "event": "render_submitted",
                "job_id": 7,
                "note": "sent with ***",
                "headers": {"Authorization": "***", "User-Agent": "viggle-watch/0.1"},
                "result_url": "https://cdn.test/r.mp4?***",
                "level": "info",
            }
        ],
    )


def test_json_log_exception_text_is_redacted(json_log: io.StringIO) -> None:
    """A logged exception's traceback text passes through redaction too."""
    register_secret(KEY)
    log = structlog.get_logger("viggle")
    try:
        raise RuntimeError(f"request failed for key {KEY}")
    except RuntimeError:
        log.exception("render_failed")
    (line,) = lines(json_log)
    assert (KEY in json.dumps(line), line["event"], "RuntimeError" in line["exception"]) == (
        False,
        "render_failed",
        True,
    )


def test_stdlib_urllib3_warning_is_routed_and_redacted(json_log: io.StringIO) -> None:
    """A third-party stdlib log record comes out as a JSON line with the key removed."""
    register_secret(KEY)
    logging.getLogger("urllib3").warning("Retrying after error with key %s", KEY)
    assert lines(json_log) == [
        {"event": "Retrying after error with key ***", "level": "warning", "logger": "urllib3"}
    ]


def test_noisy_libraries_are_held_at_warning(json_log: io.StringIO) -> None:
    """urllib3 and friends do not chatter at info; our own info lines do appear."""
    logging.getLogger("urllib3").info("Starting new HTTPS connection")
    logging.getLogger("watchdog").debug("inotify event")
    structlog.get_logger("viggle").info("job_queued", job_id=1)
    assert lines(json_log) == [{"event": "job_queued", "job_id": 1, "level": "info"}]
