"""The fault soak: every fault mode of the emulator at once, the service in this process, until
every job has ended (``bench/drills/soak.py``; fast in ``tests/e2e/test_drills_fast.py``)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.drills.checks import (
    OutputCheck,
    api_calls,
    check_outputs,
    lost_jobs,
    rendered_twice,
    uncertain_lines,
)
from tests.support.drills.jobs import ENDED, all_ended
from tests.support.drills.service import in_process, tapped_logs
from tests.support.drills.workspace import characters_rule, make_images, make_scenes, write_config
from viggle_watch.app.service import Service
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.states import State


@dataclass(frozen=True)
class SoakSettings:
    """Every fault at once, at rates that still let the drill end."""

    jobs: int = 500
    deadline_s: float = 1200.0
    seed: int = 7
    fast_share: float = 0.2  # jobs of the `fast: true` rule (one scene per image)
    concurrency: int = 20
    poll_s: float = 0.3
    latency_s: float = 1.0
    latency_jitter_s: float = 0.5
    request_delay_s: float = 0.02
    rate_429: float = 0.1
    retry_after_s: float = 1.0
    storm_rate_429: float = 0.6  # 429 storms: this share for storm_len_s every storm_every_s
    storm_at_s: float = 10.0  # the first storm
    storm_every_s: float = 30.0
    storm_len_s: float = 3.0
    rate_5xx: float = 0.05
    rate_drop: float = 0.05
    rate_truncate: float = 0.2
    cdn_expiry_s: float = 3.0
    rate_fail: float = 0.05
    fast_off_at_s: float = 0.0  # fast=true refused for fast_off_len_s every fast_off_every_s
    fast_off_every_s: float = 27.0  # not a multiple of 5 s: retries at 5·2^n s would alias
    fast_off_len_s: float = 8.0

    def faults_at(self, t: float) -> Faults:
        """The faults ``t`` seconds into the drill (429 storms and fast outages come and go)."""
        storm = _within(t, self.storm_at_s, self.storm_every_s, self.storm_len_s)
        rate_429 = self.storm_rate_429 if storm else self.rate_429
        return Faults(
            latency_jitter_s=self.latency_jitter_s,
            request_delay_s=self.request_delay_s,
            rate_429=min(rate_429, 1.0 - self.rate_5xx),
            retry_after_s=self.retry_after_s,
            rate_5xx=self.rate_5xx,
            rate_drop_after_read=self.rate_drop,
            rate_truncate_download=self.rate_truncate,
            cdn_expiry_s=self.cdn_expiry_s,
            rate_render_failure=self.rate_fail,
            fast_unavailable=_within(
                t, self.fast_off_at_s, self.fast_off_every_s, self.fast_off_len_s
            ),
        )


def _within(t: float, first: float, every: float, length: float) -> bool:
    """Whether ``t`` is in a window of ``length`` opening at ``first``, then every ``every``."""
    return t >= first and (t - first) % every < length


class FaultSchedule:
    """A thread that changes the emulator's faults as :meth:`SoakSettings.faults_at` says."""

    def __init__(self, emu: RunningEmulator, settings: SoakSettings) -> None:
        self._emu, self._settings = emu, settings
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="drill-faults", daemon=True)
        self.storms = 0

    def __enter__(self) -> FaultSchedule:
        self._emu.emulator.set_faults(self._settings.faults_at(0.0))
        self._thread.start()
        return self

    def _run(self) -> None:
        current = self._emu.emulator.faults
        while not self._stop.wait(0.1):
            wanted = self._settings.faults_at(time.monotonic() - self._started)
            if wanted != current:
                if wanted.rate_429 > current.rate_429:
                    self.storms += 1
                self._emu.emulator.set_faults(wanted)
                current = wanted

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._emu.emulator.set_faults(Faults())  # the checks afterwards read a healthy CDN


@dataclass
class SoakResult:
    settings: SoakSettings
    jobs: int
    lost: int
    end_states: Counter[str]
    stuck: list[str]
    failed_without_reason: int
    failed_reasons: Counter[str]
    uncertain: list[str]
    duplicates: int
    submissions: int
    calls: Counter[str]
    faults_injected: dict[str, int]
    storms: int
    outputs: OutputCheck
    tick_crashes: int
    wall_s: float
    download_retries: Counter[str]
    ended_after: dict[str, float]  # seconds from the start until 50 %, 95 %, all jobs ended

    def lines(self) -> list[str]:
        taken = sum(1 for u in self.uncertain if u.endswith("yes"))
        per_job = sum(v for k, v in self.calls.items() if "/api/" in k) / max(1, self.jobs)
        breakdown = ", ".join(
            f"{k} {v / max(1, self.jobs):.2f}" for k, v in sorted(self.calls.items())
        )
        return [
            f"fault soak: {self.jobs} jobs; faults injected "
            f"{dict(sorted(self.faults_injected.items()))}; 429 storms: {self.storms}",
            f"end states: {dict(sorted(self.end_states.items()))}",
            f"jobs lost: {self.lost} (target 0); stuck after the {self.settings.deadline_s:g}s "
            f"deadline: {len(self.stuck)} (target 0)",
            f"failed without a reason: {self.failed_without_reason} (target 0); failed reasons: "
            f"{dict(self.failed_reasons.most_common())}",
            f"duplicate submissions: {self.duplicates} (target 0); "
            f"paid submissions: {self.submissions}",
            f"API calls per job: {per_job:.2f} ({breakdown})",
            self.outputs.line(),
            f"download retries by cause: {dict(self.download_retries)}",
            f"uncertain: {len(self.uncertain)} (Viggle took {taken}); "
            f"tick crashes: {self.tick_crashes}",
            f"wall time: {self.wall_s:.1f}s; jobs ended after (s): "
            + ", ".join(f"{k} {v:.0f}" for k, v in self.ended_after.items()),
        ]


def _soak_workspace(
    root: Path, settings: SoakSettings
) -> tuple[Path, list[dict[str, Any]], list[Path]]:
    """Images, scenes and the two rules (plain, two scenes; fast, one scene); returns the
    assets folder, the rules and the output folders."""
    fast_jobs = round(settings.jobs * settings.fast_share)
    plain_images = (settings.jobs - fast_jobs) // 2
    fast_jobs = settings.jobs - 2 * plain_images
    scenes = make_scenes(root / "assets", 3, seed=settings.seed)
    make_images(root / "in", plain_images, seed=settings.seed, prefix="hero")
    make_images(root / "in-fast", fast_jobs, seed=settings.seed + 1, prefix="quick")
    outs = [root / "out", root / "out-fast"]
    rules = [
        characters_rule("soak", root / "in", outs[0], scenes[:2]),
        # first in line, so that its renders meet the fast outage at the start
        characters_rule("soak-fast", root / "in-fast", outs[1], scenes[2:], fast=True, priority=10),
    ]
    return root / "assets", rules, outs


def run_soak(
    root: Path, settings: SoakSettings, progress: Callable[[str], None] | None = None
) -> SoakResult:
    """Run the fault soak in ``root`` (in-process service, emulator on loopback)."""
    _, rules, outs = _soak_workspace(root, settings)
    emu_config = EmulatorConfig(latency_s=settings.latency_s, seed=settings.seed)
    with tapped_logs() as tap, serve(emu_config) as emu:
        config = write_config(
            root,
            emu.url,
            rules,
            poll_interval=f"{settings.poll_s}s",
            max_concurrent_renders=settings.concurrency,
        )
        started, started_wall = time.monotonic(), time.time()
        with FaultSchedule(emu, settings) as schedule, in_process(config) as service:
            _await_end(service, settings, started, progress)
            wall, ended_at = time.monotonic() - started, time.time()
            jobs = service.store.latest(limit=1_000_000)
            events = {j.id: service.store.events(j.id) for j in jobs}
        stats = emu.emulator.stats()
        outputs = check_outputs(jobs, outs, emu.url)
    failed = [j for j in jobs if j.state == State.FAILED]
    retries: dict[int, list[str]] = {}
    for event in tap.events("download_failed"):
        retries.setdefault(int(event["job_id"]), []).append(str(event.get("reason", "")))
    return SoakResult(
        settings=settings,
        jobs=len(jobs),
        lost=lost_jobs(jobs, settings.jobs),
        end_states=Counter(str(j.state) for j in jobs),
        stuck=[
            _stuck_line(j, events, ended_at, retries.get(j.id, []))
            for j in jobs
            if j.state not in ENDED
        ],
        download_retries=Counter(_cause(r) for rs in retries.values() for r in rs),
        failed_without_reason=sum(1 for j in failed if not (j.error_message or "").strip()),
        failed_reasons=Counter(j.error_code or "?" for j in failed),
        uncertain=uncertain_lines(jobs, events, stats),
        duplicates=rendered_twice(stats),
        submissions=len(stats["render_submissions"]),
        calls=api_calls(stats),
        faults_injected=dict(stats["faults_injected"]),
        storms=schedule.storms,
        outputs=outputs,
        tick_crashes=len(tap.events("tick_failed")),
        wall_s=wall,
        ended_after=_ended_after(jobs, events, started_wall),
    )


def _ended_after(jobs: list[Job], events: dict[int, list[Event]], start: float) -> dict[str, float]:
    """When (seconds after ``start``) half, 95 % and all of the ended jobs had ended."""
    ends = sorted(events[j.id][-1].at - start for j in jobs if j.state in ENDED and events[j.id])
    if not ends:
        return {}
    share = {"50%": 0.5, "95%": 0.95, "all": 1.0}
    return {k: ends[max(0, math.ceil(q * len(ends)) - 1)] for k, q in share.items()}


def _stuck_line(job: Job, events: dict[int, list[Event]], now: float, retries: list[str]) -> str:
    history = events.get(job.id, [])
    since = now - history[-1].at if history else 0.0
    detail = history[-1].detail if history else ""
    causes = f"; download retries: {[_cause(r) for r in retries]}" if retries else ""
    not_sent = [e.detail.removeprefix("not sent: ")[:30] for e in history if "not sent" in e.detail]
    causes += f"; not sent: {not_sent}" if not_sent else ""
    return (
        f"job {job.id} {job.state} for {since:.0f}s, next try in {job.next_attempt_at - now:.0f}s "
        f"(attempts {job.attempts}; last event: {detail!r}{causes})"
    )


def _cause(reason: str) -> str:
    """A download failure's reason, in one word."""
    for word, cause in (
        ("expired", "expired"),
        ("truncated", "truncated"),
        ("broke off", "truncated"),
        ("disk full", "disk full"),
    ):
        if word in reason:
            return cause
    return reason[:40]


def _await_end(
    service: Service,
    settings: SoakSettings,
    started: float,
    progress: Callable[[str], None] | None,
) -> None:
    last_note = started
    while time.monotonic() - started < settings.deadline_s:
        if all_ended(service.store, settings.jobs):
            return
        if progress is not None and time.monotonic() - last_note >= 30:
            last_note = time.monotonic()
            counts = {str(s): n for s, n in service.store.counts().items() if n}
            progress(f"  {time.monotonic() - started:6.0f}s {counts}")
        time.sleep(0.2)
