"""The acceptance gate's I/O (issue 16; docs/deliverables.md): measure a downloaded render in a
child (``media.inspect``), judge it (``render.acceptance``, pure), and put one that fails where
a person looks — ``OUTPUT/_review/NAME.mp4`` (and its mask) with ``NAME.json`` naming the failed
checks — never in the output folder proper. ``jobs accept ID`` publishes it as done."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from viggle_watch.outputs.atomic import fsync_dir, write_bytes_atomic
from viggle_watch.outputs.sidecar import mask_path, review_path, sidecar_path
from viggle_watch.render.acceptance import Failed, judge
from viggle_watch.render.children import MediaWorker, run_child
from viggle_watch.render.deliver import Footage
from viggle_watch.store.jobs import Event
from viggle_watch.store.states import State

ACCEPTED: Final = "accepted by a person"  # the history line of `jobs accept`


@dataclass(frozen=True, slots=True)
class Inspection:
    failed: list[Failed]
    measured: dict[str, Any]  # media.inspect's figures, kept in the review sidecar

    @property
    def footage(self) -> Footage:
        video = self.measured.get("video") or {}
        return Footage(
            seconds=float(video.get("duration_s") or 0.0),
            width=int(video.get("width") or 0),
            height=int(video.get("height") or 0),
            frames=int(video.get("frames") or 0),
        )


def inspect(
    video: Path,
    mask: Path | None,
    *,
    asked_s: float | None,
    transparent: bool,
    worker: MediaWorker | None = None,
) -> Inspection:
    """Measure ``video`` (and ``mask``) in a child — the ``worker`` kept for the purpose, or a
    one-off — and judge the figures."""
    args = [str(video)] + ([str(mask)] if mask is not None else [])
    what = "the render could not be inspected"
    measured = (
        worker.ask(args, what=what) if worker is not None else run_child("inspect", args, what=what)
    )
    return Inspection(judge(measured, asked_s=asked_s, transparent=transparent), measured)


def not_a_video(checked: Inspection) -> bool:
    """Not a single frame could be decoded: a page a bad hop served, a foreign file, or a file
    cut before its index. Downloaded again a few times before a person is asked."""
    video = checked.measured.get("video") or {}
    return bool(video.get("error")) and not video.get("frames")


def playable(path: Path) -> str | None:
    """Why a downloaded result is not a video that decodes (the gate's own ``decodes`` check,
    in a one-off child), or None."""
    found = inspect(path, None, asked_s=None, transparent=False).failed
    broken = [f.detail for f in found if f.check == "decodes"]
    return f"the result is not a playable video: {broken[0]}" if broken else None


def accepted_by_person(events: Sequence[Event]) -> bool:
    """Whether the job is downloading again because a person accepted it from review: its last
    change of state (written with it in one transaction) came from ``review``. Notes written
    since — a hook's outcome, a take-over — change no state and do not count."""
    moves = [e for e in events if e.from_state != e.to_state]
    return bool(moves) and moves[-1].from_state == State.REVIEW


def quarantine(
    video: Path, held_video: Path, held_mask: Path | None, document: dict[str, Any], *, mode: int
) -> Path:
    """Move the render (and mask) from where they were held to ``_review/`` with the sidecar
    ``document``; the render's path there."""
    dest = review_path(video)
    dest.parent.mkdir(exist_ok=True)
    if held_video != dest:
        held_video.replace(dest)
    if held_mask is not None and held_mask != mask_path(dest):
        held_mask.replace(mask_path(dest))
    write_bytes_atomic(
        sidecar_path(dest), (json.dumps(document, indent=2) + "\n").encode(), mode=mode
    )
    fsync_dir(dest.parent)
    return dest


def review_section(inspection: Inspection, job_id: int) -> dict[str, Any]:
    """The sidecar's ``review``: what failed, what was measured, and what a person can do."""
    return {
        "failed": [f.as_json() for f in inspection.failed],
        "measured": inspection.measured,
        "what_to_do": (
            f"look at the video; `viggle-watch jobs accept {job_id}` publishes it as done, "
            f"`viggle-watch jobs retry {job_id}` renders again (paid), "
            f"`viggle-watch jobs cancel {job_id}` gives up"
        ),
    }
