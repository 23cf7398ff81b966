"""`viggle-watch demo`: the whole product, offline, against the emulator, in one command."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml
from rich.console import Console

from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.lock import ServiceLock
from viggle_watch.app.service import Service
from viggle_watch.app.storage import host_name
from viggle_watch.config import Config, load_config
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.errors import ViggleWatchError
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.outputs.sidecar import sidecar_path
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import NEEDS_PERSON, TERMINAL, State

DEMO_KEY: Final = "sk-demo-local-emulator"
RULE: Final = "demo"
MARK: Final = "# written by `viggle-watch demo`: a demo workspace, rewritten at each demo run\n"


@dataclass(frozen=True, slots=True)
class Workspace:
    root: Path

    @property
    def watch(self) -> Path:
        return self.root / "in"

    @property
    def output(self) -> Path:
        return self.root / "out"

    @property
    def scene(self) -> Path:
        return self.root / "assets" / "dance.mp4"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"


def write_workspace(ws: Workspace, base_url: str) -> None:
    """Folders, a 2-second driving video and a config pointing at the emulator."""
    for folder in (ws.watch, ws.output, ws.scene.parent):
        folder.mkdir(parents=True, exist_ok=True)
    if not ws.scene.exists():
        make_driving_mp4(ws.scene, seconds=2.0)
    config = {
        "api": {"base_url": base_url},
        "state_dir": "state",
        "poll_interval": "1s",
        "settle": "1s",
        "rules": [
            {
                "name": RULE,
                "kind": "characters",
                "watch": "in",
                "output": "out",
                "model": "V4_Preview",
                "scenes": [{"video": "assets/dance.mp4"}],
            }
        ],
    }
    ws.config.write_text(MARK + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def check_workspace(ws: Workspace) -> None:
    """The demo writes only into an empty folder or one of its own: never over a person's
    config, state or files (checked before anything starts)."""
    if ws.root.exists() and not ws.root.is_dir():
        raise ViggleWatchError(f"demo workspace {ws.root} is not a folder")
    if not ws.root.exists() or not any(ws.root.iterdir()):
        return
    try:
        ours = ws.config.read_text(encoding="utf-8").startswith(MARK)
    except OSError:
        ours = False
    if not ours:
        raise ViggleWatchError(
            f"demo workspace {ws.root} is not empty and is not a demo workspace (no config.yaml "
            "written by the demo): the demo never writes over your files — give it an empty or "
            "new folder with --workspace"
        )


def drop_character(ws: Workspace, seed: int) -> Path:
    """Write a PNG beside the watch folder and move it in whole, as a careful copier would."""
    staging = ws.root / f"alice-{seed}.png"
    make_character_png(staging, seed=seed)
    target = ws.watch / staging.name
    staging.replace(target)
    return target


def _describe(job: Job) -> str:
    text = f"job {job.id} \\[{job.rule}] {job.state}"
    if job.state == State.RENDERING and job.progress_pct is not None:
        text += f" {job.progress_pct:.0f}%"
    if job.viggle_job_id:
        text += f" (viggle {job.viggle_job_id})"
    return text


def _job_of(service: Service, dropped: Path) -> Job | None:
    """The job made from this run's dropped file (not an earlier run's in the same place)."""
    made = [j for j in service.store.latest(rule=RULE, limit=50) if j.source_path == str(dropped)]
    return made[0] if made else None


def _watch_job(service: Service, dropped: Path, console: Console, deadline: float) -> Job | None:
    seen = ""
    while time.monotonic() < deadline:
        job = _job_of(service, dropped)
        if job is not None:
            line = _describe(job)
            if line != seen:
                console.print(f"  {line}")
                seen = line
            if job.state in TERMINAL | NEEDS_PERSON:
                return job
        time.sleep(0.2)
    return None


def _render_one(
    ws: Workspace, config: Config, console: Console, timeout_s: float
) -> tuple[Job | None, Path]:
    """Start the service, drop a new character, follow the job made from it."""
    service = build_service(config, ApiKey(DEMO_KEY), tick_interval_s=0.25)
    service.start()
    try:
        dropped = drop_character(ws, seed=time.time_ns() % 1_000_000)
        console.print(f"dropped {dropped.relative_to(ws.root)} into the watch folder")
        return _watch_job(service, dropped, console, time.monotonic() + timeout_s), dropped
    finally:
        service.stop()


def run_demo(workspace: Path, timeout_s: float, console: Console) -> int:
    """Run emulator + service, drop one image, wait for the video and sidecar; 0 on success."""
    ws = Workspace(workspace.resolve())
    check_workspace(ws)
    with serve(EmulatorConfig(latency_s=4.0)) as emulator:
        console.print(f"viggle emulator listening on {emulator.url}")
        write_workspace(ws, emulator.url)
        config = load_config(ws.config)
        lock = ServiceLock(config.state_dir)  # a `run` on the demo's config must wait its turn
        lock.acquire(host=host_name(config), now=time.time())
        try:
            job, dropped = _render_one(ws, config, console, timeout_s)
        finally:
            lock.release()
        stats = emulator.emulator.stats()
    if job is None:
        console.print(f"[red]demo failed: no finished job within {timeout_s:.0f}s[/red]")
        return 1
    if job.state != State.DONE or not job.output_path or not Path(job.output_path).exists():
        console.print(f"[red]demo failed: job {job.id} ended {job.state}: {job.error_message}[/]")
        return 1
    video = Path(job.output_path)
    sidecar = json.loads(sidecar_path(video).read_text(encoding="utf-8"))
    console.print(f"[green]done[/green]: {video}")
    console.print(f"sidecar: {sidecar_path(video)}")
    console.print(
        f"  viggle job {sidecar['viggle']['job_id']}, {sidecar['output']['size']} bytes,"
        f" sha256 {sidecar['output']['sha256'][:16]}…"
    )
    console.print(f"input moved to {ws.watch / 'processed'} ({dropped.name})")
    console.print(f"emulator saw {stats['calls'].get('POST /api/render', 0)} render submission(s)")
    return 0
