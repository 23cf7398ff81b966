"""The two-host drill's clock variant (issue 19 §4): host-b's clock runs ``ahead_s`` ahead of
host-a's and the database's, with a lease shorter than the difference. Host-a is a
``viggle-watch run`` process; host-b runs in the drill's process on a clock that reads
``ahead_s`` ahead of the system's (a process-wide fake such as libfaketime also fakes the
waits Python's threads make, and the service stalls or fails under it). Judged by its own
clock, host-b would take over every job host-a holds while host-a is alive and well; working
on the database's time, it takes none. Counts: take-overs (target 0), inputs rendered twice
(0), outputs that differ from their sidecar (0), and whether host-b said its clock differs.
``python -m bench.drills.twohost --clock`` prints it."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.support.drills.checks import OutputCheck, check_outputs, rendered_twice
from tests.support.drills.multihost import (
    await_started,
    host_config,
    no_delays,
    settled,
    shared_view,
    sim_stats,
    stage,
    stage_emulator,
    stop_hosts,
    until,
)
from tests.support.drills.service import in_process, start_service, tapped_logs
from tests.support.drills.twohost_result import HOSTS
from viggle_watch.clock import SystemClock
from viggle_watch.store.jobs import Job

AHEAD: Final = HOSTS[1]


@dataclass(frozen=True)
class ClockSettings:
    inputs: int = 60
    ahead_s: float = 30.0
    latency_s: float = 3.0
    jitter_s: float = 1.0
    request_delay_s: float = 0.05
    lease_s: float = 10.0  # the least store.lease allows: shorter than the difference
    concurrency: int = 16
    deadline_s: float = 300.0
    seed: int = 31


@dataclass
class ClockResult:
    settings: ClockSettings
    ended: bool
    jobs: list[Job]
    taken_over: int  # history rows "taken over from host …" (target 0: both hosts lived)
    said_differs: bool  # host-b logged clock_differs_from_store
    outputs: OutputCheck
    duplicates: int

    def by_state(self) -> Counter[str]:
        return Counter(str(j.state) for j in self.jobs)

    def lines(self) -> list[str]:
        s = self.settings
        return [
            f"two-host clock drill: {s.inputs} inputs, {AHEAD}'s clock {s.ahead_s:g} s ahead, "
            f"lease {s.lease_s:g} s, seed {s.seed}",
            f"jobs taken over from a live host: {self.taken_over} (target 0)",
            f"{AHEAD} said its clock differs from the database's: {self.said_differs}",
            f"end states: {dict(sorted(self.by_state().items()))}; all settled: {self.ended}",
            f"inputs rendered twice or more: {self.duplicates} (target 0)",
            self.outputs.line(),
        ]


class AheadClock(SystemClock):
    """The system's clock, read ``ahead_s`` ahead (a machine whose clock is wrong)."""

    def __init__(self, ahead_s: float) -> None:
        self.ahead_s = ahead_s

    def time(self) -> float:
        return time.time() + self.ahead_s


def run_clock(root: Path, db_url: str, settings: ClockSettings) -> ClockResult:
    s = settings
    where = stage(root, "clock", s.inputs, s.seed)
    with stage_emulator(where, s) as api:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        configs = {
            host: host_config(
                where.root,
                host,
                api_url=api,
                db_url=db_url,
                rules=[where.rule],
                lease_s=s.lease_s,
                settle="300ms",
                max_concurrent_renders=s.concurrency,
                poll_interval="0.5s",
                polling_interval="0.5s",
            )
            for host in HOSTS
        }
        try:
            on_time = next(h for h in HOSTS if h != AHEAD)
            procs[on_time] = start_service(configs[on_time], where.logs / f"{on_time}.log")
            with (
                tapped_logs() as tap,
                in_process(configs[AHEAD], clock=AheadClock(s.ahead_s), tick_s=0.5),
                shared_view(db_url) as view,
            ):
                await_started(where.logs, procs)
                for image in where.staged:
                    image.rename(where.watch / image.name)
                ended = until(lambda: settled(view, s.inputs), time.monotonic() + s.deadline_s)
                jobs = view.store.latest(limit=1_000_000)
                taken = sum(
                    1
                    for job in jobs
                    for event in view.store.events(job.id)
                    if event.detail.startswith("taken over from host")
                )
                said = bool(tap.events("clock_differs_from_store"))
        finally:
            stop_hosts(procs)
        no_delays(api)
        stats = sim_stats(api)
        outputs = check_outputs(jobs, [where.out], api)
    return ClockResult(s, ended, jobs, taken, said, outputs, rendered_twice(stats))
