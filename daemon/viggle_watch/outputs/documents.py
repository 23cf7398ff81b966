"""The sidecar as a model: what ``outputs.sidecar.build_sidecar`` writes, described field by
field for the published JSON Schema (``docs/schemas/sidecar.schema.json``). A test holds every
sidecar the pipeline writes to it (extra keys refused), so the schema cannot drift from the file."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SidecarJob(_Doc):
    id: int
    rule: str
    state: Literal["done", "review"]


class SidecarViggle(_Doc):
    job_id: str | None
    model: str
    mode: str
    character_ids: dict[str, str]  # image sha256 → Viggle character id (preprocessed mode)
    scene_id: str | None
    template: str | None


class SidecarOptions(_Doc):
    background_mode: str | None
    bg_color: str | None
    fast: bool


class SidecarInput(_Doc):
    path: str
    sha256: str
    size: int
    duration_s: float | None = None


class SidecarInputs(_Doc):
    character: SidecarInput
    scene: SidecarInput | None
    cast: dict[str, SidecarInput]


class SidecarFile(_Doc):
    path: str
    file: str
    size: int
    sha256: str


class Deliverable(_Doc):
    """A file derived from the render (``deliver:``): a poster, its thumbnail, ProRes 4444,
    VP9 with alpha, or a folder of PNG frames (its size the frames' total, its sha256 that of
    the lines ``NAME_000001.png <sha256>``, docs/deliverables.md)."""

    kind: str  # poster | thumbnail | prores4444 | webm_alpha | png_sequence
    path: str
    file: str
    format: str  # jpeg | mov | webm | png
    width: int
    height: int
    size: int
    sha256: str
    codec: str | None = None  # the video deliverables': prores, vp9, png
    pixel_format: str | None = None  # e.g. yuva444p10le (with alpha), rgba
    frames: int | None = None
    alpha: bool | None = None


class ReviewCheck(_Doc):
    check: str  # decodes | duration | resolution | black | frozen | mask
    detail: str


class SidecarReview(_Doc):
    """Why a render waits in ``OUTPUT/_review/`` for a person (state ``review``)."""

    failed: list[ReviewCheck]
    measured: dict[str, Any]  # media.inspect's figures of the render and its mask
    what_to_do: str


class SidecarCredits(_Doc):
    estimated: float
    charged: float | None  # null: Viggle's charge is not known
    charged_how: str


class Sidecar(_Doc):
    """``NAME.json`` beside ``NAME.mp4``: the whole story of one finished job."""

    schema_version: Literal[1]
    generator: str
    job: SidecarJob
    viggle: SidecarViggle
    options: SidecarOptions
    inputs: SidecarInputs
    output: SidecarFile
    mask: SidecarFile | None
    deliverables: list[Deliverable]
    credits: SidecarCredits
    timestamps: dict[str, str]
    history: list[dict[str, str | None]]  # {at, from, to, detail}: every transition
    attempts: int
    review: SidecarReview | None = None  # only in OUTPUT/_review/NAME.json


# `status --json` and `jobs list|show --json` (built in app/report.py; held to these by tests)


class NotifyTally(_Doc):
    target: str  # "notify[0] discord", "webhooks[0] https://…" (no token)
    sent: int
    failed: int
    last_error: str | None
    last_error_at: float | None


class JobSummary(_Doc):
    id: int
    rule: str
    state: str
    input: str
    scene: str | None
    model: str
    mode: str
    estimate_credits: float
    charged_credits: float | None
    charged_how: str | None
    viggle_job_id: str | None
    progress_pct: float | None
    output: str | None
    error: str | None
    why: str
    created_at: str
    updated_at: str
    host: str | None


class JobDetail(JobSummary):
    """`jobs show ID --json` (and each item of `jobs list --json`)."""

    spec: dict[str, object]
    assets: dict[str, object]
    attempts: int
    error_code: str | None
    delivered: list[str] = []  # what `deliver:` made beside the video, there now
    history: list[dict[str, str | None]]  # {at, from, to, detail}


class StatusCredits(_Doc):
    today: float | None
    daily_cap: float | None


class WatchFolder(_Doc):
    path: str
    observer: str
    reason: str
    ok: bool
    problem: str
    ignored: int
    ignored_examples: list[str]
    refused: int  # inputs filed in its failed/


class StatusWeb(_Doc):
    url: str  # http://127.0.0.1:8378/
    read_only: bool  # no web.token_file: nothing can be changed over HTTP


class PendingAnswers(_Doc):
    """Answers from Viggle this host keeps in its journal until the store takes them."""

    count: int
    oldest_s: float | None  # how long the oldest has waited
    jobs: list[int]
    unreadable: int  # journal lines that cannot be read (the service's log has their text)


class Status(_Doc):
    """`viggle-watch status --json`."""

    credits: StatusCredits
    counts: dict[str, int]
    jobs: list[JobSummary]
    uncertain: list[JobSummary]
    review: list[JobSummary] = []  # held in OUTPUT/_review/ for a person (acceptance gate)
    watch: list[WatchFolder]
    waiting_partners: dict[str, list[str]]
    store: dict[str, object]
    hosts: list[dict[str, object]]
    service: dict[str, object]
    held: list[dict[str, str]]
    missing_assets: list[dict[str, str]]
    notify: list[NotifyTally] = []  # each notify target / service webhook (issue 17)
    web: StatusWeb | None = None  # the dashboard's address, when `web:` is configured (issue 18)
    pending_answers: PendingAnswers | None = None  # waiting for the store (issue 19)


class HookBody(_Doc):
    """The body of a webhook when there is no sidecar (a failed job)."""

    generator: str
    event: str
    job: dict[str, object] | None
    state: str | None = None
    source_path: str | None = None
    output: dict[str, object] | None = None
    error: dict[str, object] | None = None
