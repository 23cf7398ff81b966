"""The disk-full drill: outputs on a small tmpfs that is full when the renders come back
(``bench/drills/diskfull.py``; fast in ``tests/e2e/test_drills_fast.py``)."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.drills.checks import OutputCheck, check_outputs, lost_jobs
from tests.support.drills.jobs import all_ended
from tests.support.drills.service import LogTap, in_process, tapped_logs
from tests.support.drills.tmpfs import fill, free_bytes, mount_tmpfs, unmount
from tests.support.drills.workspace import characters_rule, make_images, make_scenes, write_config
from tests.support.waits import wait_until
from viggle_watch.app.report import gather_status
from viggle_watch.app.service import Service
from viggle_watch.emulator.server import EmulatorConfig, serve


@dataclass(frozen=True)
class DiskSettings:
    jobs: int = 20
    size_bytes: int = 2 * 1024 * 1024
    failures_each: int = 2  # hold the disk full until every job failed this often on ENOSPC
    deadline_s: float = 180.0
    seed: int = 11


@dataclass
class DiskResult:
    settings: DiskSettings
    fs: str
    free_when_full: int
    ballast: int
    jobs: int
    lost: int
    held_s: float
    states_while_full: Counter[str]
    enospc_failures: int
    jobs_hit: int
    other_failures: Counter[str]
    outputs_while_full: int
    parts_while_full: int
    status_why: Counter[str]
    resume_s: float
    end_states: Counter[str]
    outputs: OutputCheck
    tick_crashes: int

    def lines(self) -> list[str]:
        return [
            f"disk full: {self.jobs} jobs, outputs on {self.fs}; ballast {self.ballast} bytes "
            f"leaves {self.free_when_full} bytes free",
            f"held full {self.held_s:.1f}s after the first ENOSPC: "
            f"states {dict(self.states_while_full)}; "
            f"ENOSPC download failures {self.enospc_failures} hitting {self.jobs_hit} jobs; "
            f"other failures {dict(self.other_failures)}",
            f"  videos published while full: {self.outputs_while_full}; .part left while full: "
            f"{self.parts_while_full}; jobs lost: {self.lost} (target 0)",
            f"  what `status` says of a waiting download: {dict(self.status_why)}",
            f"after freeing space: all done in {self.resume_s:.1f}s; end states "
            f"{dict(self.end_states)}",
            self.outputs.line(),
            f"tick crashes: {self.tick_crashes}",
        ]


def run_diskfull(root: Path, settings: DiskSettings) -> DiskResult:
    """Outputs on a small tmpfs (mounted here, unmounted at the end): fill it, let the jobs
    reach their downloads, check nothing is lost, free it, check everything lands."""
    disk = root / "disk"
    mount_tmpfs(disk, settings.size_bytes)
    try:
        return _diskfull_on(root, disk, settings)
    finally:
        unmount(disk)


def _diskfull_on(root: Path, disk: Path, settings: DiskSettings) -> DiskResult:
    out = disk / "out"
    out.mkdir()
    ballast = disk / "ballast.bin"
    scenes = make_scenes(root / "assets", 1, seed=settings.seed)
    make_images(root / "in", settings.jobs, seed=settings.seed)
    written = fill(ballast)
    free_when_full = free_bytes(disk)
    with tapped_logs() as tap, serve(EmulatorConfig(latency_s=0.5, seed=settings.seed)) as emu:
        rules = [characters_rule("disk", root / "in", out, scenes)]
        config = write_config(root, emu.url, rules, max_concurrent_renders=10)
        with in_process(config) as service:
            first = _wait_full(service, tap, settings)
            full = _full_snapshot(service, tap, out)
            held = time.monotonic() - first
            ballast.unlink()
            freed = time.monotonic()
            wait_until(lambda: all_ended(service.store, settings.jobs), settings.deadline_s)
            resume = time.monotonic() - freed
            jobs = service.store.latest(limit=1_000_000)
        outputs = check_outputs(jobs, [out], emu.url)
    return DiskResult(
        settings=settings,
        fs=f"tmpfs of {settings.size_bytes} bytes",
        free_when_full=free_when_full,
        ballast=written,
        jobs=len(jobs),
        lost=lost_jobs(jobs, settings.jobs),
        held_s=held,
        resume_s=resume,
        end_states=Counter(str(j.state) for j in jobs),
        outputs=outputs,
        tick_crashes=len(tap.events("tick_failed")),
        **full,
    )


def _enospc_by_job(tap: LogTap) -> Counter[int]:
    return Counter(
        int(e["job_id"])
        for e in tap.events("download_failed")
        if "disk full" in str(e.get("reason", ""))
    )


def _wait_full(service: Service, tap: LogTap, settings: DiskSettings) -> float:
    """Wait until every job failed ``failures_each`` times on ENOSPC; return when the first
    failure came."""

    def enough() -> bool:
        hits = _enospc_by_job(tap)
        return len(hits) >= settings.jobs and min(hits.values()) >= settings.failures_each

    wait_until(lambda: bool(_enospc_by_job(tap)), settings.deadline_s)
    first = time.monotonic()
    wait_until(enough, settings.deadline_s)
    return first


def _full_snapshot(service: Service, tap: LogTap, out: Path) -> dict[str, Any]:
    """Everything observed while the disk is still full."""
    jobs = service.store.latest(limit=1_000_000)
    status = gather_status(service.store, last=len(jobs) or 1, now=time.time())
    hits = _enospc_by_job(tap)
    others = Counter(
        str(e.get("reason", ""))[:60]
        for e in tap.events("download_failed")
        if "disk full" not in str(e.get("reason", ""))
    )
    return {
        "states_while_full": Counter(str(j.state) for j in jobs),
        "enospc_failures": sum(hits.values()),
        "jobs_hit": len(hits),
        "other_failures": others,
        "outputs_while_full": len(list(out.glob("*.mp4"))),
        "parts_while_full": len(list(out.glob("*.part"))),
        "status_why": Counter(
            re.sub(r"/[^\s:]+", "<path>", j["why"]) or "(nothing)"
            for j in status["jobs"]
            if j["state"] == "downloading"
        ),
    }
