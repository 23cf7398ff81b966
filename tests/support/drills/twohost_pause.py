"""The two-host drill's pause variant (issue 19 §1): one host is SIGSTOPped while it holds
downloads, stays stopped longer than the lease — the other takes its jobs over and finishes
them — and is then woken with SIGCONT. Nothing it does after waking may touch a finished
output: every video still equals its sidecar (and the bytes Viggle serves), no sidecar or
video the survivor wrote is rewritten or replaced, and the woken host says ``job_lost`` for
the jobs it lost. ``python -m bench.drills.twohost --pause`` prints it; fast in
``tests/e2e/test_two_host_pause.py``."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tests.support.drills.checks import OutputCheck, check_outputs, rendered_twice
from tests.support.drills.multihost import (
    SharedView,
    hosts_dropped,
    no_delays,
    settled,
    sim_stats,
    stage,
    stage_emulator,
    stop_hosts,
    until,
)
from tests.support.drills.twohost_result import HOSTS
from viggle_watch.outputs.sidecar import sidecar_path
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State

DOWNLOADING: Final = str(State.DOWNLOADING)


@dataclass(frozen=True)
class PauseSettings:
    inputs: int = 60
    latency_s: float = 1.5
    jitter_s: float = 0.3  # renders end close together: a host holds several downloads
    request_delay_s: float = 0.25  # every request (the CDN's too) takes this long
    lease_s: float = 10.0  # the least store.lease allows
    concurrency: int = 24
    downloads: int = 2  # the victim holds at least this many downloads when it is stopped
    deadline_s: float = 300.0
    seed: int = 19


FAST_PAUSE: Final = PauseSettings(inputs=24, concurrency=16)


@dataclass
class PauseResult:
    settings: PauseSettings
    victim: str
    held: list[int]  # the victim's downloading jobs when it was stopped
    stopped_s: float  # how long it stayed stopped
    finished_by_other: int  # of ``held``: done by the other host while the victim slept
    ended: bool
    jobs: list[Job]
    outputs: OutputCheck
    duplicates: int
    differ: list[str]  # done outputs whose bytes differ from their sidecar
    touched: list[str]  # outputs or sidecars written by the survivor, changed after the wake
    lost_logged: Counter[int] = field(default_factory=Counter)  # the victim's job_lost lines
    left_submitting: int = 0

    def by_state(self) -> Counter[str]:
        return Counter(str(j.state) for j in self.jobs)

    def lines(self) -> list[str]:
        s = self.settings
        return [
            f"two-host pause drill: {s.inputs} inputs, hosts {' + '.join(HOSTS)}, lease "
            f"{s.lease_s:g} s, {s.request_delay_s * 1000:g} ms per request, seed {s.seed}",
            f"SIGSTOP {self.victim} holding {len(self.held)} downloads; stopped "
            f"{self.stopped_s:.1f}s (lease {s.lease_s:g}s); the other host finished "
            f"{self.finished_by_other} of them meanwhile; then SIGCONT",
            f"end states: {dict(sorted(self.by_state().items()))}; all settled: {self.ended}; "
            f"left in submitting: {self.left_submitting} (target 0)",
            f"outputs whose bytes differ from their sidecar: {len(self.differ)} (target 0)",
            f"finished outputs or sidecars changed after {self.victim} woke: "
            f"{len(self.touched)} (target 0)",
            f"{self.victim} logged job_lost for {len(self.lost_logged)} jobs "
            f"({sum(1 for j in self.held if self.lost_logged[j])} of those it held)",
            f"inputs rendered twice or more: {self.duplicates} (target 0)",
            self.outputs.line(),
            *(f"  {line}" for line in (self.differ + self.touched)[:10]),
        ]


def run_pause(root: Path, db_url: str, settings: PauseSettings) -> PauseResult:
    """The drill in ``root``, on the (fresh, empty) database at ``db_url``."""
    s = settings
    where = stage(root, "pause", s.inputs, s.seed)
    with stage_emulator(where, s) as api:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            with hosts_dropped(
                where,
                procs,
                HOSTS,
                api_url=api,
                db_url=db_url,
                lease_s=s.lease_s,
                max_concurrent_renders=s.concurrency,
                poll_interval="0.5s",
                polling_interval="0.5s",
            ) as (view, dropped):
                victim, held = _stop_midway(view, where.out, procs, s, dropped)
                stopped = time.monotonic()
                other = next(h for h in HOSTS if h != victim)
                finished = _sleep_through(view, held, other, s, stopped)
                before = _fingerprints(view, held)
                stopped_s = time.monotonic() - stopped
                os.kill(procs[victim].pid, signal.SIGCONT)
                ended = until(lambda: settled(view, s.inputs), dropped + s.deadline_s)
                time.sleep(2 * s.lease_s)  # the woken host's ticks run out their old lists
                after = _fingerprints(view, held)
                jobs = view.store.latest(limit=1_000_000)
        finally:
            stop_hosts(procs)
        no_delays(api)
        stats = sim_stats(api)
        outputs = check_outputs(jobs, [where.out], api)
        differ = _differ_from_sidecar(jobs)
    touched = [
        f"{name}: changed after the wake" for name, fp in before.items() if after[name] != fp
    ]
    return PauseResult(
        settings=s,
        victim=victim,
        held=held,
        stopped_s=stopped_s,
        finished_by_other=finished,
        ended=ended,
        jobs=jobs,
        outputs=outputs,
        duplicates=rendered_twice(stats),
        differ=differ,
        touched=touched,
        lost_logged=_lost_lines(where.logs / f"{victim}.log"),
        left_submitting=sum(1 for j in jobs if j.state == State.SUBMITTING),
    )


def _aim(view: SharedView, out: Path, s: PauseSettings, dropped: float) -> tuple[str, list[int]]:
    """The first host seen in the middle of a download (its part file there) while it holds
    ``s.downloads`` downloads or more, and those jobs."""
    while time.monotonic() - dropped < s.deadline_s:
        for host in HOSTS:
            if not any(out.glob(f"*-{host}.part")):
                continue
            if view.held()[(host, DOWNLOADING)] >= s.downloads:
                return host, _holding(view, host)
        time.sleep(0.002)
    raise RuntimeError("no host was ever seen downloading with enough downloads in hand")


def _stop_midway(
    view: SharedView,
    out: Path,
    procs: dict[str, subprocess.Popen[bytes]],
    s: PauseSettings,
    dropped: float,
) -> tuple[str, list[int]]:
    """SIGSTOP a host in the middle of a download (:func:`_aim`), but not inside a database
    transaction: one stopped there keeps its locks (its job rows, the budget lock every API
    request takes) and stalls the other host too, which is not what this drill is about. Then
    it is woken at once and stopped again a moment later."""
    while True:
        victim, held = _aim(view, out, s, dropped)
        os.kill(procs[victim].pid, signal.SIGSTOP)
        time.sleep(0.05)  # a statement under way ends; a transaction would stay open
        if not _in_transaction(view, victim):
            return victim, held
        os.kill(procs[victim].pid, signal.SIGCONT)
        time.sleep(0.05)


def _in_transaction(view: SharedView, host: str) -> bool:
    with view.db.read() as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND state <> 'idle'",
            (f"viggle-watch@{host}",),
        ).fetchone()
    return int(row[0]) > 0


def _holding(view: SharedView, host: str) -> list[int]:
    with view.db.read() as conn:
        rows = conn.execute(
            "SELECT id FROM jobs WHERE owner = ? AND state = ? ORDER BY id", (host, DOWNLOADING)
        ).fetchall()
    return [int(r[0]) for r in rows]


def _sleep_through(
    view: SharedView, held: list[int], other: str, s: PauseSettings, since: float
) -> int:
    """Keep the victim stopped past its lease and until the other host has finished what it
    held (or a minute); how many of those it finished."""

    def finished() -> int:
        jobs = [view.store.get(i) for i in held]
        return sum(1 for j in jobs if j and j.state == State.DONE and j.owner == other)

    until(
        lambda: time.monotonic() - since > 1.5 * s.lease_s and finished() == len(held),
        since + 60,
    )
    return finished()


def _fingerprints(view: SharedView, ids: list[int]) -> dict[str, tuple[int, str]]:
    """Inode and sha256 of each finished job's video and sidecar."""
    out: dict[str, tuple[int, str]] = {}
    for job_id in ids:
        job = view.store.get(job_id)
        if job is None or job.state != State.DONE or not job.output_path:
            continue
        for path in (Path(job.output_path), sidecar_path(Path(job.output_path))):
            try:
                out[path.name] = (path.stat().st_ino, hashlib.sha256(path.read_bytes()).hexdigest())
            except OSError:
                out[path.name] = (0, "missing")
    return out


def _differ_from_sidecar(jobs: list[Job]) -> list[str]:
    """Done outputs whose bytes on disk are not the size and sha256 their sidecar says."""
    differ = []
    for job in jobs:
        if job.state != State.DONE or not job.output_path:
            continue
        video = Path(job.output_path)
        try:
            data = video.read_bytes()
            doc = json.loads(sidecar_path(video).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            differ.append(f"job {job.id}: {exc}")
            continue
        said = (doc["output"]["size"], doc["output"]["sha256"])
        if said != (len(data), hashlib.sha256(data).hexdigest()):
            differ.append(f"job {job.id}: {video.name} is {len(data)} bytes, its sidecar {said}")
    return differ


def _lost_lines(log: Path) -> Counter[int]:
    """The jobs a host's log says it found lost (``job_lost``), and how often."""
    found: Counter[int] = Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"job_lost"' not in line:
            continue
        try:
            found[int(json.loads(line)["job_id"])] += 1
        except (ValueError, KeyError, TypeError):
            continue
    return found
