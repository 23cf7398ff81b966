"""Tests for viggle_watch.outputs.sidecar: the JSON document written beside each output video."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from tests.support.store import make_spec
from viggle_watch import __version__
from viggle_watch.outputs.sidecar import SCHEMA_VERSION, build_sidecar, sidecar_path
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.states import State

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
OUTPUT = Path("/out/dance/hero__dance.mp4")


def make_job(**overrides: Any) -> Job:
    """A job as the downloader sees it just before it is done."""
    spec = make_spec("dance/hero.png")
    job = Job(
        id=7,
        rule="dance",
        state=State.DOWNLOADING,
        dedup_key="k",
        source_path="/in/dance/hero.png",
        spec=spec,
        viggle_job_id="job_abc",
        progress_pct=100.0,
        checkpoint=None,
        result_url="https://cdn.example/x.mp4?sig=secret",
        output_path=str(OUTPUT),
        output_sha256="c" * 64,
        output_size=999,
        error_code=None,
        error_message=None,
        attempts=2,
        next_attempt_at=0.0,
        created_at=T0,
        updated_at=T0 + 60,
        estimate_credits=3.0,
        assets={},
        mask_url=None,
        mask_path=None,
        mask_sha256=None,
        mask_size=None,
        render_started_at=T0 + 32,
    )
    return dataclasses.replace(job, **overrides)


EVENTS = [
    Event(T0, None, State.QUEUED, "from /in/dance/hero.png"),
    Event(T0 + 1, State.QUEUED, State.PREPARING, ""),
    Event(T0 + 2, State.PREPARING, State.SUBMITTING, ""),
    Event(T0 + 3, State.SUBMITTING, State.QUEUED, "not sent"),
    Event(T0 + 10, State.QUEUED, State.PREPARING, ""),
    Event(T0 + 11, State.PREPARING, State.SUBMITTING, ""),
    Event(T0 + 12, State.SUBMITTING, State.RENDERING, "accepted"),
    Event(T0 + 50.5, State.RENDERING, State.DOWNLOADING, ""),
]


def moved(at: str, before: str | None, after: str, detail: str = "") -> dict[str, object]:
    """A history entry as the sidecar writes it; ``at`` is mm:ss.fff past 22:00 on T0's day."""
    return {"at": f"2023-11-14T22:{at}+00:00", "from": before, "to": after, "detail": detail}


def test_sidecar_tells_the_whole_story() -> None:
    """schema 1 with job, viggle, inputs, output, first-entry timestamps and full history."""
    doc = build_sidecar(
        make_job(), EVENTS, output=OUTPUT, size=999, sha256="c" * 64, done_at=T0 + 60
    )
    assert doc == {
        "schema_version": 1,
        "generator": f"viggle-watch {__version__}",
        "job": {"id": 7, "rule": "dance", "state": "done"},
        "viggle": {"job_id": "job_abc", "model": "V4_Preview", "mode": "on_demand",
                   "character_ids": {}, "scene_id": None, "template": None},
        "options": {"background_mode": None, "bg_color": None, "fast": False},
        "inputs": {
            "character": {"path": "/in/dance/hero.png", "sha256": "a" * 64, "size": 1234},
            "scene": {"path": "/assets/dance.mp4", "sha256": "b" * 64, "size": 56789},
            "cast": {},
        },
        "output": {
            "path": "/out/dance/hero__dance.mp4",
            "file": "hero__dance.mp4",
            "size": 999,
            "sha256": "c" * 64,
        },
        "mask": None,
        "deliverables": [],
        "credits": {"estimated": 3.0, "charged": None, "charged_how": "not reported"},
        "timestamps": {
            "queued": "2023-11-14T22:13:20.000+00:00",
            "preparing": "2023-11-14T22:13:21.000+00:00",
            "submitting": "2023-11-14T22:13:22.000+00:00",
            "rendering": "2023-11-14T22:13:32.000+00:00",
            "downloading": "2023-11-14T22:14:10.500+00:00",
            "done": "2023-11-14T22:14:20.000+00:00",
        },
        "history": [
            moved("13:20.000", None, "queued", "from /in/dance/hero.png"),
            moved("13:21.000", "queued", "preparing"),
            moved("13:22.000", "preparing", "submitting"),
            moved("13:23.000", "submitting", "queued", "not sent"),
            moved("13:30.000", "queued", "preparing"),
            moved("13:31.000", "preparing", "submitting"),
            moved("13:32.000", "submitting", "rendering", "accepted"),
            moved("14:10.500", "rendering", "downloading"),
            moved("14:20.000", "downloading", "done", "output and sidecar written"),
        ],
        "attempts": 2,
        "review": None,
    }  # fmt: skip


def test_sidecar_is_json_and_round_trips() -> None:
    """The document serialises to JSON and reads back equal (no enums or paths left)."""
    doc = build_sidecar(make_job(), EVENTS, output=OUTPUT, size=1, sha256="d", done_at=T0 + 60)
    assert json.loads(json.dumps(doc)) == doc


def test_sidecar_does_not_copy_the_signed_url() -> None:
    """The signed CDN URL (and its signature) is not copied into the sidecar."""
    doc = build_sidecar(make_job(), EVENTS, output=OUTPUT, size=1, sha256="d", done_at=T0 + 60)
    assert ("sig=secret" in json.dumps(doc), "cdn.example" in json.dumps(doc)) == (False, False)


def test_sidecar_without_events_still_has_done() -> None:
    """With no recorded events the timestamps and history hold only the final step."""
    doc = build_sidecar(
        make_job(viggle_job_id=None, attempts=0),
        [],
        output=OUTPUT,
        size=1,
        sha256="d",
        done_at=T0,
    )
    done_at = "2023-11-14T22:13:20.000+00:00"
    assert (doc["viggle"], doc["timestamps"], doc["history"], doc["attempts"]) == (
        {
            "job_id": None,
            "model": "V4_Preview",
            "mode": "on_demand",
            "character_ids": {},
            "scene_id": None,
            "template": None,
        },
        {"done": done_at},
        [
            {
                "at": done_at,
                "from": "downloading",
                "to": "done",
                "detail": "output and sidecar written",
            }
        ],
        0,
    )


def test_sidecar_path_sits_beside_the_video() -> None:
    """``NAME.mp4`` → ``NAME.json`` in the same folder; schema version is 1."""
    assert (sidecar_path(OUTPUT), SCHEMA_VERSION) == (Path("/out/dance/hero__dance.json"), 1)
