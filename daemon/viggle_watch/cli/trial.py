"""`viggle-watch doctor --render`: one real on-demand render of given files, to see the whole
paid path of an API — after an explicit confirmation, refused when its estimate is over
``--max-credits`` — reporting what it charged, how long each step took, and every answer's
shape against what the client reads (the exchanges are recorded, redacted, and compared)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel

from viggle_watch.app.clients import make_client
from viggle_watch.cli.bulk import confirmed
from viggle_watch.config import Config, resolve_api_key
from viggle_watch.errors import ApiError, ViggleWatchError
from viggle_watch.intake.checks import Problem, check_image, check_video
from viggle_watch.redaction import redact_text
from viggle_watch.render.budget import render_credits
from viggle_watch.render.review import playable
from viggle_watch.viggle.charged import charged
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.inputs import RenderOptions, UploadInput
from viggle_watch.viggle.recording import Recorder
from viggle_watch.viggle.schemas import Credits, RenderCreated, RenderStatus, unwrap
from viggle_watch.viggle.shapes import shape_of

POLL_S: Final = 4.0
MODELS: Final[dict[tuple[str, str], type[BaseModel]]] = {
    ("GET", "/api/credits"): Credits,
    ("POST", "/api/render"): RenderCreated,
    ("GET", "/api/render/"): RenderStatus,
}


def run_trial(config: Config, args: argparse.Namespace) -> int:
    image, video, cap = args.image, args.video, args.max_credits
    if image is None or video is None or cap is None:
        raise ViggleWatchError("doctor --render needs --image, --video and --max-credits")
    estimate = _estimate(image, video)
    if estimate > cap:
        raise ViggleWatchError(
            f"the render is estimated at {estimate:g} credits, over --max-credits {cap:g}"
        )
    where = config.api.base_url
    question = f"Render {image.name} dancing {video.name} at {where}: about {estimate:g} credits."
    if not confirmed(question, yes=args.yes):
        print("nothing was sent")
        return 1
    with tempfile.TemporaryDirectory(prefix="viggle-doctor-") as tmp:
        folder = Path(tmp)
        recorder = Recorder(folder / "exchanges")
        client = make_client(config, resolve_api_key(config), recorder=recorder)
        steps = _render(client, image, video, args.model, config.render_timeout, folder)
        shapes = _shapes(folder / "exchanges")
    report = {
        "base_url": config.api.base_url,
        "estimate": estimate,
        "steps": steps,
        "answers": shapes,
    }
    text = json.dumps(report, indent=2, default=str)
    if args.report is not None:
        args.report.write_text(redact_text(text) + "\n", encoding="utf-8")
    if args.json:
        print(redact_text(text))
    else:
        for step in steps:
            mark = "ok  " if step["ok"] else "FAIL"
            said = redact_text(step["said"])
            print(f"  {mark} {step['step']} ({step['seconds']:.1f} s): {said}")
        for answer in shapes:
            print(f"  answer {answer['call']}: {answer['shape']}")
    return 0 if all(s["ok"] for s in steps) else 1


def _estimate(image: Path, video: Path) -> float:
    problem = check_image(image, allow_webp=False)
    if problem is not None:
        raise ViggleWatchError(f"{image}: {problem.reason}")
    facts = check_video(video, role="driving")
    if isinstance(facts, Problem):
        raise ViggleWatchError(f"{video}: {facts.reason}")
    return float(render_credits(facts.duration_s, fast=False))


def _render(
    client: ViggleClient, image: Path, video: Path, model: str, timeout_s: float, folder: Path
) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []

    def step(name: str, ok: bool, said: str, t0: float) -> None:
        steps.append({"step": name, "ok": ok, "said": said, "seconds": time.monotonic() - t0})

    t0 = time.monotonic()
    before = _balance(client)
    step("balance before", before is not None, f"{before} credits", t0)
    t0 = time.monotonic()
    try:
        created = client.render(UploadInput(image, video), RenderOptions(model=model))
    except ApiError as exc:
        step("submit", False, str(exc), t0)
        return steps
    step("submit", True, f"accepted as {created.job_id}", t0)
    t0, status = time.monotonic(), None
    while time.monotonic() - t0 < timeout_s:
        try:
            status = client.get_render(created.job_id)
        except ApiError as exc:
            step("poll", False, str(exc), t0)
        if status is not None and status.terminal:
            break
        time.sleep(POLL_S)
    if status is None or status.status != "complete" or not status.result_url:
        step("render", False, f"ended as {status.status if status else 'unknown'}", t0)
        return steps
    step("render", True, "complete", t0)
    t0 = time.monotonic()
    target = folder / "result.mp4"
    with target.open("wb") as out:
        got = client.download(status.result_url, out, max_bytes=2 * 1024**3)
    refused = playable(target)
    step("download", refused is None, refused or f"{got.size} bytes, a playable video", t0)
    after = _balance(client)
    paid = charged(status.credits_used, before, after)
    step("charged", True, paid.detail, time.monotonic())
    return steps


def _balance(client: ViggleClient) -> float | None:
    try:
        return client.credits(retry=False).balance
    except ApiError:
        return None


def _shapes(folder: Path) -> list[dict[str, str]]:
    """Each recorded answer against the model the client reads it with."""
    found = []
    for path in sorted(folder.glob("*.json")):
        exchange = json.loads(path.read_text(encoding="utf-8"))
        method, call_path = exchange["method"], exchange["path"]
        model = MODELS.get((method, call_path)) or MODELS.get(
            (method, call_path.rsplit("/", 1)[0] + "/")
        )
        if model is None or not 200 <= exchange["status"] < 300:
            continue
        said = shape_of(model, unwrap(exchange["answer"])).said()
        found.append({"call": f"{method} {call_path}", "shape": said})
    return found
