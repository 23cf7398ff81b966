"""The web listener built from the config (``app.assembly`` calls this only when ``web`` is
configured: FastAPI and uvicorn are imported here, not before)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog

from viggle_watch.config import Config, Rule
from viggle_watch.notify.metrics import Health, Metrics
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.submissions import SubmissionStore
from viggle_watch.web.api import create_app
from viggle_watch.web.context import WebContext
from viggle_watch.web.server import RunningWeb
from viggle_watch.web.stream import Watch
from viggle_watch.web.submissions.routes import Desk
from viggle_watch.web.token import read_token, token_warnings

log = structlog.get_logger()


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
    current: Callable[[], Config],
) -> RunningWeb:
    settings = config.web
    assert settings is not None
    token = read_token(settings)
    for words in token_warnings(settings, token):
        log.warning("web_token_weak", problem=words)
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
        config,
        metrics,
        health,
        token,
        status,
        open_db,
        summary,
        detail,
        act,
        watch,
        desk,
        settling,
        current,
    )
    app = create_app(context)
    return RunningWeb(app, host, port)
