"""The web listener built from the config (``app.assembly`` calls this only when ``web`` is
configured: FastAPI and uvicorn are imported here, not before)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from viggle_watch.config import Config, Rule
from viggle_watch.errors import ConfigError
from viggle_watch.notify.metrics import Health, Metrics
from viggle_watch.reading import read_regular
from viggle_watch.redaction import register_secret
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.submissions import SubmissionStore
from viggle_watch.web.api import create_app
from viggle_watch.web.context import WebContext
from viggle_watch.web.server import RunningWeb
from viggle_watch.web.stream import Watch
from viggle_watch.web.submissions.routes import Desk


def build_web(
    config: Config,
    metrics: Metrics,
    health: Health,
    *,
    status: Callable[[], dict[str, Any]],
    open_db: Callable[[bool], Backend | None],
    summary: Callable[[Job, str, float], dict[str, Any]],
    detail: Callable[[Job, list[Event]], dict[str, Any]],
    act: Callable[[Backend, str, int, dict[str, Any]], Job],
    watch: Watch,
    rules: Callable[[], Mapping[str, Rule]],
    clock: Callable[[], float],
    settling: Callable[[], list[Path]],
) -> RunningWeb:
    settings = config.web
    assert settings is not None
    token = None
    if settings.token_file is not None:
        try:
            raw = read_regular(settings.token_file, 4096, follow_links=True)
        except OSError as exc:
            raise ConfigError(f"web.token_file {settings.token_file}: {exc.strerror}") from None
        token = raw.decode("utf-8", "replace").strip() or None
        if token is None:
            raise ConfigError(f"web.token_file {settings.token_file} is empty")
        register_secret(token)  # never in a log line
    host, port = settings.address
    desk = Desk(
        rules,
        SubmissionStore(config.state_dir),
        open_db,
        clock,
        max_upload=settings.max_upload,
        settle_s=config.settle,
    )
    context = WebContext(
        config, metrics, health, token, status, open_db, summary, detail, act, watch, desk, settling
    )
    app = create_app(context)
    return RunningWeb(app, host, port)
