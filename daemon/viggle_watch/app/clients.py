"""The clients the service builds from the config: the Viggle API behind one rate limit, and
the input claims that let several hosts share watch folders."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Final

import requests

from viggle_watch.apikey import ApiKey
from viggle_watch.backoff import RateLimiter
from viggle_watch.config import Config
from viggle_watch.intake.tick import InputClaim
from viggle_watch.store.hosts import HostStore
from viggle_watch.viggle.client import Timeouts, ViggleClient
from viggle_watch.viggle.recording import Recorder

CLAIM_TTL_S: Final = 24 * 3600.0  # the same file dropped again a day later is new work


def make_client(
    config: Config,
    key: ApiKey,
    *,
    session: requests.Session | None = None,
    hosts: HostStore | None = None,
    recorder: Recorder | None = None,
) -> ViggleClient:
    """The Viggle client for ``config``, behind one rate limit shared by every call it makes.

    With ``hosts`` (a shared store) the limit is counted in the database, across every host.
    """
    burst = max(2.0, config.rate_limit)
    if hosts is not None:
        shared = hosts

        def pace() -> float:
            return shared.take_token(
                "api", rate_per_s=config.rate_limit, burst=burst, now=time.time()
            )

    else:
        limiter = RateLimiter(config.rate_limit, burst=burst)

        def pace() -> float:
            return limiter.wait_s(time.monotonic())

    return ViggleClient(
        config.api.base_url,
        key,
        session=session,
        timeouts=Timeouts(connect_s=config.api.timeout_connect, read_s=config.api.timeout_read),
        pace=pace,
        recorder=recorder or (Recorder(config.api.record) if config.api.record else None),
    )


def input_claimer(hosts: HostStore, config: Config) -> InputClaim | None:
    """On a shared store each settled input is handled by exactly one host (None: one host)."""
    if not config.store.url:
        return None

    def claim(path: Path, size: int, mtime_ns: int, now: float) -> bool:
        return hosts.claim_input(
            str(path), size, mtime_ns, now=now, alive_s=config.store.lease, ttl_s=CLAIM_TTL_S
        )

    return claim


def hook_session() -> requests.Session:
    """A session for webhooks (a rule's, or the service's): its own, never the Viggle
    client's, so no API key can ride along."""
    return requests.Session()
