"""The service's settings as pydantic models: API, store, budget, metrics, and the config
that holds them and the rules (unknown keys are errors)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final

from pydantic import AfterValidator, Field, model_validator

from viggle_watch.config.deprecated import listeners_clash
from viggle_watch.config.kinds import ConfigPath, Duration, Rule, Strict, shared_folder_conflict
from viggle_watch.config.notify import NotifyTarget, ServiceWebhook
from viggle_watch.config.web import WebSettings
from viggle_watch.redaction import redact_text
from viggle_watch.serving import parse_listen

DEFAULT_BASE_URL: Final = "https://apis.viggle.ai"


class ApiSettings(Strict):
    base_url: str = DEFAULT_BASE_URL
    key_file: ConfigPath | None = None
    timeout_connect: Duration = 10.0
    timeout_read: Duration = 60.0
    record: ConfigPath | None = None  # each API exchange, redacted, to a file in this folder

    @model_validator(mode="after")
    def _check_url(self) -> ApiSettings:
        if not re.match(r"^https?://[^/\s]+", self.base_url):
            shown = redact_text(self.base_url)  # a key pasted here must not be printed back
            raise ValueError(f"base_url {shown!r} must start with https:// or http://")
        return self


class BudgetSettings(Strict):
    daily_credits: Annotated[float, Field(gt=0)] | None = None
    max_credits_per_job: Annotated[float, Field(gt=0)] | None = None


def _loopback_listen(value: str) -> str:
    parse_listen(value, what="metrics.listen")  # what `run` will bind, or why not
    return value


class MetricsSettings(Strict):
    """An opt-in Prometheus endpoint (and /healthz), on loopback by default."""

    listen: Annotated[str, AfterValidator(_loopback_listen)] | None = None


class StoreSettings(Strict):
    """Where the queue lives: SQLite in ``state_dir`` (default), or a shared PostgreSQL."""

    url: str | None = None  # postgresql://user@host/db: several hosts share one queue
    host: str | None = None  # this service's name among the hosts (default: the host name)
    lease: Duration = 60.0  # a silent host's jobs are taken over after this long

    @model_validator(mode="after")
    def _check_url(self) -> StoreSettings:
        if self.url is not None and not self.url.startswith(("postgresql://", "postgres://")):
            shown = redact_text(self.url)
            raise ValueError(f"store url {shown!r} must start with postgresql://")
        if self.host is not None and not re.fullmatch(r"[\w.@:\-]{1,64}", self.host):
            raise ValueError("store host must be 1-64 letters, digits or . _ - @ :")
        if self.lease < 10:
            raise ValueError("store lease must be at least 10s")
        return self


class Config(Strict):
    api: ApiSettings = ApiSettings()
    store: StoreSettings = StoreSettings()
    state_dir: ConfigPath
    poll_interval: Duration = 4.0
    settle: Duration = 5.0
    incomplete_grace: Duration = 180.0  # a file that looks cut off waits this long for the rest
    rescan_interval: Duration = 300.0
    polling_interval: Duration = 5.0  # how often polling observers (network shares) look
    max_concurrent_renders: Annotated[int, Field(ge=1, le=50)] = 2
    render_timeout: Duration = 1800.0
    rate_limit: Annotated[float, Field(gt=0)] = 4.0  # API requests per second, all calls
    budget: BudgetSettings = BudgetSettings()
    metrics: MetricsSettings = MetricsSettings()
    rules_dir: ConfigPath | None = None
    rules: list[Rule] = Field(default_factory=list)
    notify: list[NotifyTarget] = Field(default_factory=list)  # docs/notifications.md
    webhooks: list[ServiceWebhook] = Field(default_factory=list)  # service events, signed
    web: WebSettings | None = None  # the JSON API (docs/web.md)
    source: Path = Path("config.yaml")

    @model_validator(mode="after")
    def _rules_apart(self) -> Config:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        for i, a in enumerate(self.rules):
            for b in self.rules[i + 1 :]:
                conflict = shared_folder_conflict(a, b)
                if conflict is not None:
                    raise ValueError(conflict)
        for target in self.notify:
            unknown = sorted(set(target.rules or ()) - set(names))
            if unknown:
                raise ValueError(f"notify: rules {', '.join(unknown)} are not rules of this config")
        return self

    @model_validator(mode="after")
    def _listeners_apart(self) -> Config:
        if self.web is not None and self.metrics.listen is not None:
            clash = listeners_clash(self.web.listen, self.metrics.listen)
            if clash is not None:
                raise ValueError(clash)
        return self
