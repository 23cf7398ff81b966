"""Shared code of the drills (``bench/drills/*.py``) and of their fast variants in
``tests/e2e/test_drills_fast.py``: workspaces with real media, config files, the service as a
subprocess (for kill -9) or in-process, read-only views of the job store, and the checks every
drill prints — jobs lost, inputs rendered twice, outputs verified against their sidecar and the
emulator's bytes, ``.part`` files left, and why each job ended where it did.

The soak and disk-full drills live here whole (``run_soak``, ``run_diskfull``) so that the
scripts and the tests run the very same code at different sizes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import requests
import structlog
import yaml

from viggle_watch.apikey import ApiKey
from viggle_watch.app.service import Service, build_service
from viggle_watch.cli.status import gather_status
from viggle_watch.config import load_config
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.errors import StoreError
from viggle_watch.logs import configure_logging
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.jobs import Event, Job, JobStore
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State

KEY: Final = "sk-drill-0123456789abcdef"
ENDED: Final = frozenset({State.DONE, State.FAILED, State.UNCERTAIN})
"""Where a drill's job may end: done, failed with a reason, or uncertain (held for a person)."""
NOISY_LOGGERS: Final = (
    "apscheduler",
    "apscheduler.scheduler",
    "watchdog",
    "urllib3",
    "werkzeug",
    "PIL",
)

# ----------------------------------------------------------------------------- workspaces


def make_images(folder: Path, count: int, *, seed: int, prefix: str = "hero") -> list[Path]:
    """``count`` distinct real PNG characters in ``folder`` (distinct seeds, distinct bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_character_png(folder / f"{prefix}{i:04d}.png", seed=seed * 100_000 + i)
        for i in range(count)
    ]


def make_scenes(
    folder: Path, count: int, *, seed: int, prefix: str = "scene", seconds: float = 1.0
) -> list[Path]:
    """``count`` distinct real driving videos in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_driving_mp4(folder / f"{prefix}{i}.mp4", seconds=seconds, seed=seed * 1000 + i)
        for i in range(count)
    ]


def characters_rule(
    name: str, watch: Path, output: Path, scenes: Iterable[Path], **extra: object
) -> dict[str, Any]:
    """A ``characters`` rule: every image in ``watch`` against every scene."""
    rule: dict[str, Any] = {
        "name": name,
        "kind": "characters",
        "watch": str(watch),
        "output": str(output),
        "scenes": [{"video": str(s)} for s in scenes],
    }
    rule.update(extra)
    return rule


def write_config(root: Path, url: str, rules: list[dict[str, Any]], **settings: object) -> Path:
    """``root/config.yaml`` for the emulator at ``url``: short intervals, no rate limit to speak
    of (the drills measure the service, not the politeness), the store in ``root/state``."""
    doc: dict[str, Any] = {
        "api": {"base_url": url},
        "state_dir": str(root / "state"),
        "poll_interval": "200ms",
        "settle": "200ms",
        "rate_limit": 1000,
        "max_concurrent_renders": 8,
        "rules": rules,
    }
    doc.update(settings)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def state_db(root: Path) -> Path:
    return root / "state" / "state.db"


# ------------------------------------------------------------------ the store, read-only


@contextlib.contextmanager
def reading(path: Path) -> Iterator[JobStore | None]:
    """The job store at ``path`` opened read-only, or None while it does not exist yet."""
    if not path.exists():
        yield None
        return
    try:
        db = Database.open(path, readonly=True)
    except StoreError:  # being created or migrated right now
        yield None
        return
    try:
        yield JobStore(db)
    finally:
        db.close()


def read_jobs(path: Path) -> list[Job]:
    with reading(path) as store:
        return [] if store is None else store.latest(limit=1_000_000)


def read_counts(path: Path) -> Counter[str]:
    """How many jobs are in each state (cheap: one GROUP BY)."""
    with reading(path) as store:
        if store is None:
            return Counter()
        return Counter({str(s): n for s, n in store.counts().items() if n})


def read_events(path: Path, job_ids: Iterable[int]) -> dict[int, list[Event]]:
    with reading(path) as store:
        if store is None:
            return {}
        return {i: store.events(i) for i in job_ids}


# ------------------------------------------------------------------ the service


def start_service(
    config: Path, log: Path | None = None, *, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``python -m daemon run`` as a subprocess, the key in its environment (``env``, or this
    process's), its output appended to ``log`` (or dropped)."""
    args = [
        sys.executable,
        "-m",
        "viggle_watch",
        "--log-format",
        "json",
        "run",
        "--config",
        str(config),
    ]
    environ = {**(os.environ if env is None else env), "VIGGLE_API_KEY": KEY}
    if log is None:
        return subprocess.Popen(
            args, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    with log.open("ab") as out:
        return subprocess.Popen(args, env=environ, stdout=out, stderr=subprocess.STDOUT)


@contextlib.contextmanager
def in_process(config: Path, *, tick_s: float = 0.05) -> Iterator[Service]:
    """The service built from ``config`` and started in this process; stopped on exit."""
    service = build_service(load_config(config), ApiKey(KEY), tick_interval_s=tick_s)
    service.start()
    try:
        yield service
    finally:
        service.stop()


class LogTap(io.StringIO):
    """A log stream that keeps the JSON events (the service's own account of what it did)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def write(self, s: str) -> int:
        for line in s.splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    with self._lock:
                        self._events.append(event)
        return len(s)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._events if name is None or e.get("event") == name]


@contextlib.contextmanager
def tapped_logs(level: int = logging.WARNING) -> Iterator[LogTap]:
    """Route the service's logs (JSON) into a :class:`LogTap`; put the old logging back after."""
    root = logging.getLogger()
    saved_structlog = structlog.get_config()
    saved_root = (list(root.handlers), root.level)
    saved_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    tap = LogTap()
    configure_logging(fmt="json", level=level, stream=tap)
    try:
        yield tap
    finally:
        structlog.configure(**saved_structlog)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_root[0]:
            root.addHandler(handler)
        root.setLevel(saved_root[1])
        for name, old in saved_levels.items():
            logging.getLogger(name).setLevel(old)


# ------------------------------------------------------------------ checks


def served_sha256(base_url: str, viggle_job_id: str) -> str:
    """sha256 of the bytes the emulator serves for a render (a fresh status GET, then the CDN).
    Call it with the faults cleared: the status GET needs no key."""
    status = requests.get(f"{base_url}/api/render/{viggle_job_id}", timeout=10).json()
    body = requests.get(status["cdn_url"], timeout=10).content
    return hashlib.sha256(body).hexdigest()


@dataclass
class OutputCheck:
    """Every output of a done job, checked three ways; what is left over in the output folders."""

    verified: int = 0
    corrupt: list[str] = field(default_factory=list)
    parts: list[Path] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.corrupt) + len(self.parts) + len(self.orphans)

    def line(self) -> str:
        return (
            f"outputs verified (file = sidecar = store = emulator bytes): {self.verified}; "
            f"corrupt or partial: {len(self.corrupt)}; .part left: {len(self.parts)}; "
            f"orphan videos: {len(self.orphans)} (target 0 each)"
        )


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_one(job: Job, served: Callable[[str], str]) -> str | None:
    """What is wrong with a done job's output, or None."""
    if not job.output_path or not job.viggle_job_id:
        return f"job {job.id}: done without an output or a Viggle id"
    video = Path(job.output_path)
    sidecar = video.with_suffix(".json")
    if not video.is_file() or not sidecar.is_file():
        return f"job {job.id}: {video.name} or its sidecar is missing"
    data = video.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    found = {
        "file": (digest, len(data)),
        "sidecar": (doc["output"]["sha256"], doc["output"]["size"]),
        "store": (job.output_sha256, job.output_size),
        "emulator": (served(job.viggle_job_id), len(data)),
    }
    if len(set(found.values())) != 1:
        return f"job {job.id}: {video.name} differs: {found}"
    return None


def check_outputs(jobs: list[Job], out_dirs: Iterable[Path], base_url: str) -> OutputCheck:
    """Each done job's video: its sha256 and size against its sidecar, the store and the bytes
    the emulator serves; then ``.part`` files and videos no done job owns."""
    check = OutputCheck()
    cache: dict[str, str] = {}

    def served(viggle_job_id: str) -> str:
        if viggle_job_id not in cache:
            cache[viggle_job_id] = served_sha256(base_url, viggle_job_id)
        return cache[viggle_job_id]

    owned: set[Path] = set()
    for job in jobs:
        if job.state != State.DONE:
            continue
        problem = _check_one(job, served)
        if problem:
            check.corrupt.append(problem)
        else:
            check.verified += 1
        owned.update(Path(p) for p in (job.output_path, job.mask_path) if p)
    for folder in out_dirs:
        check.parts += sorted(folder.rglob("*.part"))
        check.orphans += [p for p in sorted(folder.rglob("*.mp4")) if p not in owned]
    return check


def submissions_per_input(stats: EmulatorStats) -> Counter[tuple[str | None, str | None]]:
    """How many paid renders the emulator took per (image sha256, driving video sha256)."""
    return Counter(
        (s["ref_image_sha256"], s["driving_video_sha256"]) for s in stats["render_submissions"]
    )


def rendered_twice(stats: EmulatorStats) -> int:
    """Inputs (image x driving video) the emulator rendered more than once (target 0)."""
    return sum(1 for n in submissions_per_input(stats).values() if n > 1)


def api_calls(stats: EmulatorStats) -> Counter[str]:
    """The calls the service made: every ``/api`` endpoint and the CDN (not ``/_sim``)."""
    return Counter({k: v for k, v in stats["calls"].items() if "/api/" in k or "/cdn" in k})


def job_key(job: Job) -> tuple[str, str, str]:
    """What makes a job unique in a drill: the rule, the image and the scene."""
    return (job.rule, job.spec.character.sha256, job.spec.scene_key)


def lost_jobs(jobs: list[Job], expected: int) -> int:
    """Input x scene pairs without exactly one job (target 0)."""
    keys = Counter(job_key(j) for j in jobs)
    duplicated = sum(n - 1 for n in keys.values())
    return max(0, expected - len(keys)) + duplicated


def taken_by_viggle(job: Job, stats: EmulatorStats) -> bool:
    """Whether the emulator holds a paid render of this job's inputs."""
    scene = job.spec.scene.sha256 if job.spec.scene else None
    return submissions_per_input(stats)[(job.spec.character.sha256, scene)] > 0


def uncertain_lines(
    jobs: list[Job], events: dict[int, list[Event]], stats: EmulatorStats
) -> list[str]:
    """One line per uncertain job: its input, the last event's reason, and whether the emulator
    did take (and charge) the request — what a person would find in the dashboard."""
    lines = []
    for job in sorted(jobs, key=lambda j: j.id):
        if job.state != State.UNCERTAIN:
            continue
        history = events.get(job.id, [])
        detail = history[-1].detail if history else "?"
        took = "yes" if taken_by_viggle(job, stats) else "no"
        name = Path(job.spec.character.path).name
        scene = Path(job.spec.scene.path).name if job.spec.scene else job.spec.scene_key
        lines.append(f"job {job.id} ({name} x {scene}): {detail}; Viggle took it: {took}")
    return lines


# ------------------------------------------------------------------ tmpfs (for ENOSPC)


class MountError(RuntimeError):
    """A small filesystem cannot be mounted here (not root, no mount, a sandbox)."""


def mount_tmpfs(path: Path, size_bytes: int) -> None:
    """Mount a tmpfs of ``size_bytes`` at ``path``; raise :class:`MountError` if impossible."""
    mount = shutil.which("mount")
    if mount is None:
        raise MountError("no `mount` command")
    if os.geteuid() != 0:
        raise MountError("not running as root (tmpfs needs CAP_SYS_ADMIN)")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_bytes},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise MountError(f"mount -t tmpfs failed: {said}")


def unmount(path: Path) -> None:
    umount = shutil.which("umount") or "umount"
    done = subprocess.run([umount, str(path)], capture_output=True, check=False)
    if done.returncode != 0:  # something still holds it: detach it now, free it when released
        subprocess.run([umount, "-l", str(path)], capture_output=True, check=False)


def tmpfs_unavailable() -> str | None:
    """None when a tmpfs can be mounted here; else why not (tests skip with this reason)."""
    with tempfile.TemporaryDirectory(prefix="drill-probe-") as tmp:
        probe = Path(tmp) / "fs"
        try:
            mount_tmpfs(probe, 64 * 1024)
        except MountError as exc:
            return str(exc)
        unmount(probe)
    return None


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path: Path) -> int:
    """Write ``path`` until the filesystem says ENOSPC; return the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1024 * 1024, 64 * 1024, 4096, 512, 1):
            block = b"\0" * chunk
            while True:
                try:
                    n = f.write(block) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                written += n
                if n < chunk:  # a short write: the next one would fail
                    break
    return written


# ------------------------------------------------------------------ waiting


def wait_until(predicate: Callable[[], bool], timeout_s: float, every_s: float = 0.1) -> bool:
    """Poll ``predicate`` until true (True) or ``timeout_s`` passed (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return predicate()


def all_ended(store: JobStore, expected: int) -> bool:
    counts = store.counts()
    return sum(counts.values()) >= expected and all(
        n == 0 for s, n in counts.items() if s not in ENDED
    )


# ------------------------------------------------------------------ the fault soak


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


# ------------------------------------------------------------------ disk full


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


def with_overrides(settings: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the scripts' command-line overrides (None: keep)."""
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})
