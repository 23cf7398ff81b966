"""What the render ticks share: the job store, the API client, the one job-ended handler, the
metrics and the gate (a pause, a refused key). The service builds one; every tick takes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from viggle_watch.notify.metrics import Metrics
from viggle_watch.render.gate import Gate, OpenGate
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.viggle.client import ViggleClient


@dataclass(frozen=True)
class Wiring:
    store: JobStore
    client: ViggleClient
    on_ended: Callable[[Job], None]  # outputs.finished: logs job_finished, files inputs, hooks
    metrics: Metrics = field(default_factory=Metrics)
    gate: Gate = field(default_factory=OpenGate)
