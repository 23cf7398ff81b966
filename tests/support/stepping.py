"""The service stepped by hand: its ticks called at fake times (no scheduler, no observer)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.service import Service
from viggle_watch.clock import FakeClock
from viggle_watch.config import load_config
from viggle_watch.store.states import State


class Stepper:
    """The service's ticks, called by hand at fake times (no scheduler, no observer)."""

    def __init__(self, service: Service, clock: FakeClock) -> None:
        self.service, self.clock = service, clock

    @classmethod
    def of(cls, config: Path, key: str = KEY) -> Stepper:
        """The service of the config file ``config``, on a fake clock near real time."""
        clock = FakeClock(start=time.time())
        return cls(build_service(load_config(config), ApiKey(key), clock=clock), clock)

    def ingest(self) -> int:
        """Scan, then let everything settle: the files become queued jobs."""
        s, now = self.service, self.clock.time()
        s.intake.rescan(now)
        s.intake.tick(now)
        self.clock.advance(s.config.settle + 1)
        return s.intake.tick(self.clock.time())

    def step(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.service.render_once(self.clock.time())

    def state(self, job_id: int = 1) -> State:
        job = self.service.store.get(job_id)
        assert job is not None
        return job.state

    def run_until(self, predicate: Callable[[], bool], seconds: float = 0.5) -> None:
        """Step until ``predicate()``; the emulator runs on real time, so wait a little too."""

        def stepped() -> bool:
            self.step(seconds)
            return predicate()

        wait_for(stepped, timeout_s=60)


@pytest.fixture
def stepper_for(make_config: MakeConfig) -> Iterator[Any]:
    """Factory: a :class:`Stepper` of ``make_config(base_url, **overrides)``; closed after."""
    made: list[Service] = []

    def factory(base_url: str, **overrides: Any) -> Stepper:
        clock = FakeClock(start=time.time())  # near real time: the CLI uses the wall clock
        service = build_service(make_config(base_url, **overrides), ApiKey(KEY), clock=clock)
        made.append(service)
        return Stepper(service, clock)

    yield factory
    for service in made:
        service.db.close()
