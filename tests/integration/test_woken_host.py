"""Issue 19 §1, two hosts on one PostgreSQL store: a host paused in the middle of its download
tick for longer than the lease, then woken, never touches what the host that took its jobs
over has published.

alpha holds two jobs in ``downloading`` (each with half its bytes in alpha's own part file)
and starts its download tick; the tick stops inside the first download (its CDN request held,
as a SIGSTOP would hold it) with both jobs in hand. beta takes both over once the lease has
run out, downloads and publishes them, writes their sidecars and marks them ``done``. Then
alpha wakes and goes on with the jobs it took at the start of its tick: it must find them
lost, log ``job_lost``, delete only its own part files, and leave beta's videos and sidecars
exactly as beta wrote them."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.drills.service import LogTap, tapped_logs
from tests.support.stepped_hosts import stepped_hosts
from tests.support.stepping import Stepper
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.atomic import download_tag, part_path
from viggle_watch.outputs.sidecar import sidecar_path
from viggle_watch.store.states import State

LEASE_S = 10.0


class HeldDownloads(HTTPAdapter):
    """The real HTTP adapter, except that while ``paused`` a CDN request waits before it is
    sent: the host is frozen inside its download, as under SIGSTOP (its other threads, its
    database connection and its files stay as they were)."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.waiting = threading.Event()  # a request is being held
        self.resume = threading.Event()
        self.resume.set()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if not self.resume.is_set():
            self.waiting.set()
            self.resume.wait(120)
        return super().send(request, *args, **kwargs)


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with serve(EmulatorConfig(latency_s=0.2, faults=Faults(rate_truncate_download=1.0))) as e:
        yield e


@pytest.fixture
def hosts(
    emu: RunningEmulator, make_config: MakeConfig, pg_url: str
) -> Iterator[tuple[Stepper, Stepper, HeldDownloads]]:
    """alpha (whose CDN requests can be held) and beta, stepped by hand on fake clocks."""
    held = HeldDownloads()
    with stepped_hosts(
        emu.url, make_config, pg_url, lease_s=LEASE_S, held=held, prefix=f"{emu.url}/cdn/"
    ) as (alpha, beta):
        yield alpha, beta, held


def fingerprint(path: Path) -> tuple[int, int, str]:
    """A file's inode, size and sha256: the same only if nobody replaced or rewrote it."""
    info = path.stat()
    return info.st_ino, info.st_size, hashlib.sha256(path.read_bytes()).hexdigest()


class FrozenTick:
    """alpha's download tick, run in a thread and held inside its first download (both jobs
    in its hands) until :meth:`wake`; what it raised, if anything."""

    def __init__(self, alpha: Stepper, held: HeldDownloads) -> None:
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
        assert self.held.waiting.wait(60), "alpha's tick never reached its download"

    def wake(self) -> None:
        self.held.resume.set()
        self.thread.join(120)
        assert not self.thread.is_alive()


def two_half_downloads(alpha: Stepper, workspace: Workspace) -> tuple[dict[int, Path], ...]:
    """Two jobs that alpha holds in ``downloading``, half of each in alpha's part file (the
    emulator cuts every download off); then due again on alpha's next tick. Their videos'
    paths, and alpha's and beta's part files of them."""
    for n in (1, 2):
        make_character_png(workspace.watch / f"hero{n}.png", seed=n)
    assert alpha.ingest() == 2
    videos = {j: workspace.output / f"hero{j}__dance.mp4" for j in (1, 2)}
    mine = {j: part_path(videos[j], download_tag(j, "alpha")) for j in (1, 2)}
    theirs = {j: part_path(videos[j], download_tag(j, "beta")) for j in (1, 2)}
    alpha.run_until(lambda: all(p.exists() for p in mine.values()))
    alpha.clock.advance(300)  # past every download's backoff
    return videos, mine, theirs


def take_over(beta: Stepper, alpha: Stepper) -> None:
    """alpha is silent past its lease: beta takes its jobs over."""
    beta.clock.advance(alpha.clock.time() - beta.clock.time() + LEASE_S + 1)
    beta.service.keep_leases(beta.clock.time())


def alphas_lost_jobs(logs: LogTap) -> list[dict[str, Any]]:
    return sorted(
        (e for e in logs.events("job_lost") if e.get("host") == "alpha"),
        key=lambda e: int(e["job_id"]),
    )


def test_a_host_woken_after_losing_its_jobs_leaves_the_published_outputs_alone(
    hosts: tuple[Stepper, Stepper, HeldDownloads], emu: RunningEmulator, workspace: Workspace
) -> None:
    alpha, beta, held = hosts
    videos, mine, _theirs = two_half_downloads(alpha, workspace)
    emu.emulator.set_faults(Faults())
    tick = FrozenTick(alpha, held)
    with tapped_logs() as logs:
        tick.freeze()  # alpha stops mid-download; its leases run out
        take_over(beta, alpha)
        beta.run_until(lambda: beta.state(1) == beta.state(2) == State.DONE)
        published = {j: fingerprint(videos[j]) for j in (1, 2)}
        sidecars = {j: fingerprint(sidecar_path(videos[j])) for j in (1, 2)}
        tick.wake()  # alpha goes on with the tick it was in
        lost = alphas_lost_jobs(logs)

    for j in (1, 2):
        job = beta.service.store.get(j)
        assert job is not None
        doc = json.loads(sidecar_path(videos[j]).read_text(encoding="utf-8"))
        data = videos[j].read_bytes()
        assert (
            job.state,
            job.owner,
            fingerprint(videos[j]) == published[j],  # never replaced by alpha's file
            fingerprint(sidecar_path(videos[j])) == sidecars[j],  # never rewritten by alpha
            (len(data), hashlib.sha256(data).hexdigest()),
            (job.output_size, job.output_sha256),
            mine[j].exists(),
        ) == (
            State.DONE,
            "beta",
            True,
            True,
            (doc["output"]["size"], doc["output"]["sha256"]),
            (doc["output"]["size"], doc["output"]["sha256"]),
            False,
        ), f"job {j}"
    assert not tick.failed, f"alpha's tick failed: {tick.failed}"
    assert [(e["job_id"], e["holder"]) for e in lost] == [(1, "beta"), (2, "beta")]
    assert sorted(p.name for p in workspace.output.iterdir()) == sorted(
        [*(v.name for v in videos.values()), *(sidecar_path(v).name for v in videos.values())]
    )


def test_a_host_woken_while_the_other_still_downloads_drops_only_its_own_part_files(
    hosts: tuple[Stepper, Stepper, HeldDownloads], emu: RunningEmulator, workspace: Workspace
) -> None:
    """alpha wakes while beta, which took its jobs over, is half-way through them: alpha
    stops (it never finishes and ends a job another host holds), removes its own part files
    and leaves beta's alone; beta then finishes both, with the bytes the CDN serves."""
    alpha, beta, held = hosts
    videos, mine, theirs = two_half_downloads(alpha, workspace)
    tick = FrozenTick(alpha, held)
    with tapped_logs() as logs:
        tick.freeze()
        take_over(beta, alpha)
        beta.run_until(lambda: all(p.exists() for p in theirs.values()))  # cut off too
        halves = {j: theirs[j].read_bytes() for j in (1, 2)}
        emu.emulator.set_faults(Faults())
        tick.wake()
        lost = alphas_lost_jobs(logs)
    left = {j: (mine[j].exists(), theirs[j].read_bytes() == halves[j]) for j in (1, 2)}
    jobs = [beta.service.store.get(j) for j in (1, 2)]
    assert not tick.failed, f"alpha's tick failed: {tick.failed}"
    assert (
        [(e["job_id"], e["holder"]) for e in lost],
        left,
        [(j.state, j.owner) for j in jobs if j is not None],
        [videos[j].exists() for j in (1, 2)],
    ) == (
        [(1, "beta"), (2, "beta")],
        {1: (False, True), 2: (False, True)},
        [(State.DOWNLOADING, "beta")] * 2,
        [False, False],
    )
    beta.clock.advance(300)
    beta.run_until(lambda: beta.state(1) == beta.state(2) == State.DONE)
    for j in (1, 2):
        job = beta.service.store.get(j)
        assert job is not None and job.viggle_job_id
        status = requests.get(f"{emu.url}/api/render/{job.viggle_job_id}", timeout=10).json()
        served = requests.get(status["cdn_url"], timeout=10).content
        assert videos[j].read_bytes() == served
    assert not list(workspace.output.rglob("*.part"))
