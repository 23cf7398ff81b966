"""The kill -9 drill: the real service, SIGKILLed again and again, never pays twice or loses a
job, and leaves no half-written output."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.support.drills.checks import served_sha256
from tests.support.drills.jobs import ENDED, read_jobs
from tests.support.drills.service import start_service
from tests.support.waits import wait_for
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.config import Config
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State

INPUTS = 12
SCENES = 2
KILLS = 10


def jobs_of(config: Config) -> list[Job]:
    """The jobs in the service's store (none while it is being created)."""
    return read_jobs(config.state_dir / "state.db")


def start(config: Config) -> subprocess.Popen[bytes]:
    return start_service(config.source)


def kill_at(config: Config, proc: subprocess.Popen[bytes], moment: str, rng: random.Random) -> str:
    """SIGKILL the service when a job is in ``moment`` (or after a random delay)."""
    if moment == "random":
        time.sleep(rng.uniform(0.3, 1.5))
    else:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            if any(j.state == State(moment) for j in jobs_of(config)):
                break
            time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=10)
    return moment


def test_kill_9_drill(make_config: MakeConfig, workspace: Workspace) -> None:
    """SIGKILL at random moments, during submissions and downloads: nothing rendered twice,
    one outcome per input and scene, every output complete and verified, no .part left."""
    rng = random.Random(20261125)
    scenes = []
    for i in range(SCENES):
        video = workspace.root / "assets" / f"scene{i}.mp4"
        make_driving_mp4(video, seconds=1.0, seed=10 + i)
        scenes.append({"video": str(video)})
    for i in range(INPUTS):
        make_character_png(workspace.watch / f"hero{i:02d}.png", seed=100 + i)
    # a slow API and CDN widen the windows the drill aims at
    faults = Faults(request_delay_s=0.15, latency_jitter_s=0.3)
    with serve(EmulatorConfig(latency_s=0.8, faults=faults)) as emu:
        rule = {
            "name": "drill",
            "kind": "characters",
            "watch": "in",
            "output": "out",
            "scenes": scenes,
        }
        config = make_config(
            emu.url, rules=[rule], settle="200ms", poll_interval="200ms", max_concurrent_renders=4
        )
        moments = Counter[str]()
        for i in range(KILLS):
            moment = ("submitting", "downloading", "rendering", "random", "preparing")[i % 5]
            moments[kill_at(config, start(config), moment, rng)] += 1
        final = start(config)
        try:
            wait_for(
                lambda: (
                    len(jobs_of(config)) == INPUTS * SCENES
                    and all(j.state in ENDED for j in jobs_of(config))
                ),
                timeout_s=120,
                what="every job ended",
            )
        finally:
            final.terminate()
            final.wait(timeout=30)
        stats = emu.emulator.stats()
        served = {
            j.viggle_job_id: served_sha256(emu.url, j.viggle_job_id)
            for j in jobs_of(config)
            if j.state == State.DONE and j.viggle_job_id
        }
    jobs = jobs_of(config)
    pairs = Counter(
        (s["ref_image_sha256"], s["driving_video_sha256"]) for s in stats["render_submissions"]
    )
    outcomes = Counter(str(j.state) for j in jobs)
    print(
        f"\nkill -9 drill: {KILLS} kills {dict(moments)}; outcomes {dict(outcomes)}; "
        f"{len(stats['render_submissions'])} submissions for {len(jobs)} jobs"
    )
    assert max(pairs.values()) == 1, "an input was rendered twice"
    assert len({(j.spec.character.sha256, j.spec.scene_key) for j in jobs}) == INPUTS * SCENES
    assert outcomes["failed"] == 0
    for job in jobs:
        if job.state == State.UNCERTAIN:
            assert "outcome unknown" in _last_detail(config, job)
        if job.state == State.DONE:
            assert job.output_path is not None
            video = Path(job.output_path)
            digest = hashlib.sha256(video.read_bytes()).hexdigest()
            sidecar = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
            assert digest == sidecar["output"]["sha256"] == served[str(job.viggle_job_id)]
    assert sorted(workspace.output.glob("*.part")) == []
    assert outcomes["done"] + outcomes["uncertain"] == INPUTS * SCENES


def _last_detail(config: Config, job: Job) -> str:
    db = Database.open(config.state_dir / "state.db", readonly=True)
    try:
        return JobStore(db).events(job.id)[-1].detail
    finally:
        db.close()
