"""Two services on one PostgreSQL store, stepped by hand on fake clocks (issue 19's woken-host
tests): ``alpha`` and ``beta``, each with its own state dir; alpha's HTTP requests under
``prefix`` go through ``held`` (an adapter the test can hold), beta's never."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import requests
from requests.adapters import HTTPAdapter

from tests.support.stepping import Stepper
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.service import Service
from viggle_watch.clock import FakeClock


@contextlib.contextmanager
def stepped_hosts(
    base_url: str,
    make_config: MakeConfig,
    pg_url: str,
    *,
    lease_s: float,
    held: HTTPAdapter,
    prefix: str,
) -> Iterator[tuple[Stepper, Stepper]]:
    made: list[Service] = []
    steppers: list[Stepper] = []
    try:
        for name in ("alpha", "beta"):
            config = make_config(
                base_url,
                state_dir=f"state-{name}",
                store={"url": pg_url, "host": name, "lease": f"{lease_s:g}s"},
            )
            session = requests.Session()
            clock = FakeClock(start=time.time())
            made.append(build_service(config, ApiKey(KEY), clock=clock, session=session))
            steppers.append(Stepper(made[-1], clock))
            if name == "alpha":  # the most specific prefix wins: only alpha's requests wait
                session.mount(prefix, held)
        yield steppers[0], steppers[1]
    finally:
        for service in made:
            service.downloader.close()
            service.db.close()
