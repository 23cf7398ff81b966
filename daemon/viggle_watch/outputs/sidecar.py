"""Pure: the JSON sidecar written beside each output video. Versioned; fields only grow.

Schema (``schema_version`` 1)::

    schema_version   1
    generator        "viggle-watch X.Y.Z"
    job              {id, rule, state}
    viggle           {job_id, model, mode, character_ids, scene_id, template}
    options          {background_mode, bg_color, fast}
    inputs           {character: {path, sha256, size}, scene: {path, sha256, size, duration_s}
                      | null, cast: {segment: {path, sha256, size}}}
    output           {path, file, size, sha256}
    mask             {path, file, size, sha256} | null   (transparent mode)
    credits          {estimated, charged, charged_how}: charged is null when not known
    timestamps       {<state>: ISO-8601 UTC of the first time the job entered it, ...}
    history          [{at, from, to, detail}, ...]    every transition, in order
    attempts         number of submissions made
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from viggle_watch import __version__
from viggle_watch.clock import iso
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.spec import InputRef
from viggle_watch.viggle.charged import NOT_REPORTED

SCHEMA_VERSION: Final = 1


REVIEW_FOLDER: Final = "_review"


def sidecar_path(video: Path) -> Path:
    """``NAME.json`` beside ``NAME.mp4``."""
    return video.with_suffix(".json")


def review_path(video: Path) -> Path:
    """Where ``OUTPUT/NAME.mp4`` waits for a person when it failed the acceptance gate:
    ``OUTPUT/_review/NAME.mp4`` (docs/deliverables.md)."""
    return video.parent / REVIEW_FOLDER / video.name


def output_now(job: Job) -> str | None:
    """Where the job's video is now: in ``_review/`` while it waits for a person there."""
    if job.output_path and job.state == "review":
        return str(review_path(Path(job.output_path)))
    return job.output_path


def mask_path(video: Path) -> Path:
    """``NAME.mask.mp4`` beside ``NAME.mp4``: the alpha mask of a transparent render."""
    return video.with_suffix(".mask.mp4")


def _file(path: Path, size: int, sha256: str) -> dict[str, Any]:
    return {"path": str(path), "file": path.name, "size": size, "sha256": sha256}


def _ref(ref: InputRef) -> dict[str, Any]:
    out = {k: v for k, v in asdict(ref).items() if k != "role"}
    if out.get("duration_s") is None:
        out.pop("duration_s")
    return out


def build_sidecar(
    job: Job,
    events: Sequence[Event],
    *,
    output: Path,
    size: int,
    sha256: str,
    done_at: float,
    mask: tuple[int, str] | None = None,
    deliverables: Sequence[Mapping[str, Any]] = (),
    review: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole story of one finished job as a JSON-ready dict. With ``review`` (the failed
    acceptance checks) it is the sidecar of a render held in ``_review/``, state ``review``."""
    ending = "review" if review is not None else "done"
    why = "failed the acceptance gate: " + ", ".join(
        f["check"] for f in (review or {}).get("failed", [])
    )
    timestamps: dict[str, str] = {}
    for ev in events:
        timestamps.setdefault(str(ev.to_state), iso(ev.at))
    timestamps.setdefault(ending, iso(done_at))
    history = [
        {"at": iso(e.at), "from": e.from_state, "to": e.to_state, "detail": e.detail}
        for e in events
    ]
    history.append(
        {
            "at": iso(done_at),
            "from": "downloading",
            "to": ending,
            "detail": why if review is not None else "output and sidecar written",
        }
    )
    spec = job.spec
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"viggle-watch {__version__}",
        "job": {"id": job.id, "rule": job.rule, "state": ending},
        "viggle": {
            "job_id": job.viggle_job_id,
            "model": spec.model,
            "mode": spec.mode,
            "character_ids": job.assets.get("characters", {}),
            "scene_id": job.assets.get("scene") or spec.scene_id,
            "template": spec.template,
        },
        "options": asdict(spec.options),
        "inputs": {
            "character": _ref(spec.character),
            "scene": _ref(spec.scene) if spec.scene else None,
            "cast": {m.segment: _ref(m.character) for m in spec.cast},
        },
        "output": _file(output, size, sha256),
        "mask": _file(mask_path(output), *mask) if mask else None,
        "deliverables": [dict(d) for d in deliverables],  # derived files (`deliver:`)
        "credits": {
            "estimated": job.estimate_credits,
            "charged": job.charged_credits,  # null when Viggle's charge is not known
            "charged_how": job.charged_how or NOT_REPORTED,
        },
        "timestamps": timestamps,
        "history": history,
        "attempts": job.attempts,
        "review": dict(review) if review is not None else None,  # why it waits for a person
    }
