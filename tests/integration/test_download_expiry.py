"""Short-lived result URLs behind a backlog of downloads (issue 7: the URL-expiry livelock).

A refreshed URL used only on the next tick, after every other due download, expires again
before it is used — for ever, when each download takes long enough. Here the emulator runs on
a virtual clock that moves only when told to, and by ``request_delay_s`` on every API and CDN
request (its ``sleep`` advances that clock instead of waiting): a slow CDN and URLs that live
1-2 s, deterministic, without real waiting and without asserting wall-clock times.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import requests

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import Workspace
from viggle_watch.clock import FakeClock
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.render.downloader import REFRESHES_PER_TICK
from viggle_watch.store.states import State

EXPIRY_S: Final = 1.0  # a signed URL lives 1-2 s (its exp is rounded up to whole seconds)
REQUEST_S: Final = 0.5  # every API and CDN request takes this long on the emulator's clock


@contextlib.contextmanager
def virtual_emulator() -> Iterator[tuple[RunningEmulator, FakeClock]]:
    clock = FakeClock(start=10_000.0)
    config = EmulatorConfig(
        latency_s=1.0,
        clock=clock.time,
        sleep=clock.advance,
        asset_delay_s=0.0,
        faults=Faults(cdn_expiry_s=EXPIRY_S),
    )
    with serve(config) as emu:
        yield emu, clock


def start(stepper_for: Any, workspace: Workspace, emu: RunningEmulator, jobs: int) -> Stepper:
    for i in range(jobs):
        make_character_png(workspace.watch / f"c{i:02d}.png", seed=i)
    st: Stepper = stepper_for(emu.url, max_concurrent_renders=jobs, rate_limit=1000)
    assert st.ingest() == jobs
    return st


def until_all_downloading(st: Stepper, emu_clock: FakeClock, jobs: int) -> None:
    """Submit and poll (no download tick) until every job waits in ``downloading``."""
    service = st.service

    def step() -> bool:
        st.clock.advance(1.0)
        emu_clock.advance(2.0)  # the renders finish on the emulator's clock
        now = st.clock.time()
        service.preparer.tick(now)
        service.submitter.tick(now)
        service.poller.tick(now)
        return service.store.counts()[State.DOWNLOADING] == jobs

    wait_for(step, timeout_s=60, what=f"{jobs} jobs in downloading")


def slow_cdn_and_every_url_expired(emu: RunningEmulator, emu_clock: FakeClock) -> None:
    emu.emulator.set_faults(Faults(cdn_expiry_s=EXPIRY_S, request_delay_s=REQUEST_S))
    emu_clock.advance(EXPIRY_S + 5.0)  # every URL the poller took has expired


def calls(emu: RunningEmulator, prefix: str) -> int:
    return sum(n for k, n in emu.emulator.stats()["calls"].items() if k.startswith(prefix))


def served_sha256(emu: RunningEmulator, viggle_job_id: str) -> str:
    status = requests.get(f"{emu.url}/api/render/{viggle_job_id}", timeout=10).json()
    return hashlib.sha256(requests.get(status["cdn_url"], timeout=10).content).hexdigest()


def test_a_refreshed_url_is_used_in_the_tick_that_fetched_it(
    stepper_for: Any, workspace: Workspace
) -> None:
    """An expired URL: one download tick fetches a fresh URL from the job's status and
    downloads with it at once; the job is done, rendered once."""
    with virtual_emulator() as (emu, emu_clock):
        st = start(stepper_for, workspace, emu, 1)
        until_all_downloading(st, emu_clock, 1)
        slow_cdn_and_every_url_expired(emu, emu_clock)
        st.service.downloader.tick(st.clock.time())
        assert st.state() == State.DONE
        stats = emu.emulator.stats()
        job = st.service.store.get(1)
        assert job is not None and job.output_path and job.viggle_job_id
        assert hashlib.sha256(Path(job.output_path).read_bytes()).hexdigest() == served_sha256(
            emu, job.viggle_job_id
        )
    assert stats["faults_injected"].get("cdn_expiry") == 1
    assert len(stats["render_submissions"]) == 1


def test_a_backlog_of_expired_downloads_all_end_done(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Eight downloads due at once, each URL expired, each CDN or status request taking 0.5 s
    (a tick takes longer than a URL lives): every job still ends done, each URL refreshed
    once, nothing rendered twice. Before the fix each refreshed URL waited for the next tick,
    expired behind the backlog and was refreshed again, for ever."""
    jobs = 8
    with virtual_emulator() as (emu, emu_clock):
        st = start(stepper_for, workspace, emu, jobs)
        until_all_downloading(st, emu_clock, jobs)
        slow_cdn_and_every_url_expired(emu, emu_clock)
        for _ in range(3):
            st.clock.advance(1.0)
            st.service.downloader.tick(st.clock.time())
        counts = st.service.store.counts()
        stats = emu.emulator.stats()
        done = st.service.store.latest(state=State.DONE, limit=jobs)
        for job in done:
            assert job.output_path and job.viggle_job_id
            served = served_sha256(emu, job.viggle_job_id)
            assert hashlib.sha256(Path(job.output_path).read_bytes()).hexdigest() == served
    assert counts[State.DONE] == jobs, counts
    assert stats["faults_injected"].get("cdn_expiry") == jobs  # each URL expired once only
    assert len(stats["render_submissions"]) == jobs


def test_a_url_that_never_works_is_refreshed_a_bounded_number_of_times(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A CDN so slow that even a fresh URL has expired when it is checked: one tick refreshes
    at most REFRESHES_PER_TICK times, then the job waits out a backoff in ``downloading``
    (no spinning); it is never submitted again."""
    with virtual_emulator() as (emu, emu_clock):
        st = start(stepper_for, workspace, emu, 1)
        until_all_downloading(st, emu_clock, 1)
        emu.emulator.set_faults(Faults(cdn_expiry_s=0.0, request_delay_s=2.0))
        emu_clock.advance(5.0)
        cdn, status = calls(emu, "GET /cdn"), calls(emu, "GET /api/render")
        now = st.clock.time()
        st.service.downloader.tick(now)
        assert calls(emu, "GET /cdn") - cdn == 1 + REFRESHES_PER_TICK
        assert calls(emu, "GET /api/render") - status == REFRESHES_PER_TICK
        job = st.service.store.get(1)
        assert job is not None and job.state == State.DOWNLOADING
        assert job.next_attempt_at > now
        assert "expired" in (job.error_message or "")
        st.service.downloader.tick(now)  # not due again yet: nothing is fetched
        assert calls(emu, "GET /cdn") - cdn == 1 + REFRESHES_PER_TICK
        stats = emu.emulator.stats()
    assert len(stats["render_submissions"]) == 1
