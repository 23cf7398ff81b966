"""Pure: the JSON sidecar written beside each output video. Versioned; fields only grow.

Schema (``schema_version`` 1)::

    schema_version   1
    generator        "viggle-watch X.Y.Z"
    job              {id, rule, state}
    viggle           {job_id, model, mode}
    inputs           {character: {path, sha256, size}, scene: {path, sha256, size}}
    output           {path, file, size, sha256}
    timestamps       {<state>: ISO-8601 UTC of the first time the job entered it, ...}
    history          [{at, from, to, detail}, ...]    every transition, in order
    attempts         number of submissions made
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from daemon import __version__
from daemon.clock import iso
from daemon.store.jobs import Event, Job

SCHEMA_VERSION: Final = 1


def sidecar_path(video: Path) -> Path:
    """``NAME.json`` beside ``NAME.mp4``."""
    return video.with_suffix(".json")


def build_sidecar(
    job: Job, events: Sequence[Event], *, output: Path, size: int, sha256: str, done_at: float
) -> dict[str, Any]:
    """The whole story of one finished job as a JSON-ready dict."""
    timestamps: dict[str, str] = {}
    for ev in events:
        timestamps.setdefault(str(ev.to_state), iso(ev.at))
    timestamps.setdefault("done", iso(done_at))
    history = [
        {"at": iso(e.at), "from": e.from_state, "to": e.to_state, "detail": e.detail}
        for e in events
    ]
    history.append(
        {
            "at": iso(done_at),
            "from": "downloading",
            "to": "done",
            "detail": "output and sidecar written",
        }
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"viggle-watch {__version__}",
        "job": {"id": job.id, "rule": job.rule, "state": "done"},
        "viggle": {"job_id": job.viggle_job_id, "model": job.spec.model, "mode": "on_demand"},
        "inputs": {
            ref.role: {k: v for k, v in asdict(ref).items() if k != "role"}
            for ref in (job.spec.character, job.spec.scene)
        },
        "output": {"path": str(output), "file": output.name, "size": size, "sha256": sha256},
        "timestamps": timestamps,
        "history": history,
        "attempts": job.attempts,
    }
