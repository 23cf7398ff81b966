"""Issue 19 §1, two hosts on one PostgreSQL store: a host paused in the middle of its poll
tick for longer than the lease, then woken, writes nothing for the rendering job the other
host took over meanwhile — neither its progress nor its move to ``downloading``.

alpha holds a job in ``rendering`` and starts its poll tick; the tick stops inside the poll
(its request to Viggle held, as a SIGSTOP would hold it) with the job in hand. beta takes the
job over once the lease has run out. Then alpha wakes with Viggle's answer — the render still
going, or finished — and must find the job lost: ``job_lost`` logged, the job's row and
history exactly as they were. beta then finishes the job."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.drills.service import tapped_logs
from tests.support.stepped_hosts import stepped_hosts
from tests.support.stepping import Stepper
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.states import State

LEASE_S = 10.0
RENDER_S = 60.0  # on the emulator's clock, which the test moves on when a render should end


class HeldPolls(HTTPAdapter):
    """The real HTTP adapter, except that while ``paused`` a poll (GET /api/render/<id>)
    waits before it is sent: the host is frozen inside its poll tick, as under SIGSTOP."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.waiting = threading.Event()
        self.resume = threading.Event()
        self.resume.set()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method == "GET" and not self.resume.is_set():
            self.waiting.set()
            self.resume.wait(120)
        return super().send(request, *args, **kwargs)


class EmulatorTime:
    """The emulator's clock: real time, plus what the test skips to finish renders."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def finish_renders(self) -> None:
        self.skipped += 2 * RENDER_S


@pytest.fixture
def emu_time() -> EmulatorTime:
    return EmulatorTime()


@pytest.fixture
def emu(emu_time: EmulatorTime) -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=RENDER_S, asset_delay_s=0.2, clock=emu_time)) as e:
        yield e


@pytest.fixture
def hosts(
    emu: RunningEmulator, make_config: MakeConfig, pg_url: str
) -> Iterator[tuple[Stepper, Stepper, HeldPolls]]:
    """alpha (whose polls can be held) and beta, stepped by hand on fake clocks."""
    held = HeldPolls()
    with stepped_hosts(
        emu.url, make_config, pg_url, lease_s=LEASE_S, held=held, prefix=f"{emu.url}/api/render/"
    ) as (alpha, beta):
        yield alpha, beta, held


class FrozenTick:
    """alpha's render tick, run in a thread and held inside its poll until :meth:`wake`."""

    def __init__(self, alpha: Stepper, held: HeldPolls) -> None:
        self.alpha, self.held = alpha, held
        self.failed: list[BaseException] = []
        self.thread = threading.Thread(target=self._tick, name="alpha-tick")

    def _tick(self) -> None:
        try:
            self.alpha.service.render_once(self.alpha.clock.time())
        except BaseException as exc:  # kept for the assertion
            self.failed.append(exc)

    def freeze(self) -> None:
        self.held.resume.clear()
        self.thread.start()
        assert self.held.waiting.wait(60), "alpha's tick never reached its poll"

    def wake(self) -> None:
        self.held.resume.set()
        self.thread.join(120)
        assert not self.thread.is_alive()


@pytest.mark.parametrize("answer", ["still rendering", "complete"])
def test_a_host_woken_in_its_poll_writes_nothing_for_a_job_taken_over(
    answer: str,
    hosts: tuple[Stepper, Stepper, HeldPolls],
    emu_time: EmulatorTime,
    workspace: Workspace,
) -> None:
    alpha, beta, held = hosts
    make_character_png(workspace.watch / "hero.png", seed=1)
    assert alpha.ingest() == 1
    alpha.run_until(lambda: alpha.state(1) == State.RENDERING)
    alpha.clock.advance(5)  # its next poll is due
    tick = FrozenTick(alpha, held)
    with tapped_logs() as logs:
        tick.freeze()  # alpha stops inside its poll, the job in hand; its lease runs out
        beta.clock.advance(alpha.clock.time() - beta.clock.time() + LEASE_S + 1)
        beta.service.keep_leases(beta.clock.time())
        before = (beta.service.store.get(1), beta.service.store.events(1))
        if answer == "complete":
            emu_time.finish_renders()
        tick.wake()  # alpha goes on with Viggle's answer
        after = (beta.service.store.get(1), beta.service.store.events(1))
        lost = [e for e in logs.events("job_lost") if e.get("host") == "alpha"]
    assert not tick.failed, f"alpha's tick failed: {tick.failed}"
    assert before[0] is not None and (before[0].state, before[0].owner) == (
        State.RENDERING,
        "beta",
    )
    assert after == before  # alpha wrote no field and no event
    assert [(e["job_id"], e["holder"]) for e in lost] == [(1, "beta")]
    emu_time.finish_renders()
    beta.run_until(lambda: beta.state(1) == State.DONE)
    job = beta.service.store.get(1)
    assert job is not None and job.owner == "beta" and job.output_sha256
