"""The download tick: fetch finished renders atomically, write the sidecar, archive the input."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path
from typing import Final

import structlog

from daemon.errors import ApiError, DownloadError
from daemon.outputs.atomic import write_atomic, write_bytes_atomic
from daemon.outputs.naming import free_path
from daemon.outputs.sidecar import build_sidecar, sidecar_path
from daemon.render.retry import download_delay_s
from daemon.store.jobs import Job, JobStore
from daemon.store.states import State
from daemon.viggle.client import Downloaded, ViggleClient

log = structlog.get_logger()
MAX_OUTPUT_BYTES: Final = 2 * 1024**3


class Downloader:
    def __init__(
        self,
        store: JobStore,
        client: ViggleClient,
        *,
        outputs: dict[str, Path],
        on_ended: Callable[[Job], None],
        file_mode: int = 0o644,
    ) -> None:
        self._store = store
        self._client = client
        self._outputs = outputs  # rule name → output folder
        self._on_ended = on_ended
        self._file_mode = file_mode
        self._failures: dict[int, int] = {}

    def tick(self, now: float) -> int:
        jobs = self._store.due(State.DOWNLOADING, now)
        for job in jobs:
            self._download(job, now)
        return len(jobs)

    def _target(self, job: Job) -> Path:
        """The output path, chosen once and stored so a retried download rewrites the same file."""
        if job.output_path:
            return Path(job.output_path)
        folder = self._outputs[job.rule]
        path = free_path(folder, job.spec.output_name, ".mp4", lambda p: p.exists())
        self._store.update(job.id, State.DOWNLOADING, output_path=str(path))
        return path

    def _download(self, job: Job, now: float) -> None:
        bound = log.bind(job_id=job.id, rule=job.rule)
        target = self._target(job)
        assert job.result_url is not None
        url = job.result_url
        try:
            got: Downloaded = write_atomic(
                target,
                lambda f: self._client.download(url, f, max_bytes=MAX_OUTPUT_BYTES),
                mode=self._file_mode,
            )
        except DownloadError as exc:
            self._retry_later(job, now, str(exc), refresh=exc.expired)
            return
        except OSError as exc:
            reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            self._retry_later(job, now, f"cannot write {target}: {reason}", refresh=False)
            return
        self._failures.pop(job.id, None)
        self._finish(job, target, got, now)
        bound.info("output_written", output=str(target), size=got.size)

    def _retry_later(self, job: Job, now: float, reason: str, *, refresh: bool) -> None:
        failures = self._failures.get(job.id, 0) + 1
        self._failures[job.id] = failures
        fields: dict[str, object] = {"next_attempt_at": now + download_delay_s(failures)}
        if refresh and job.viggle_job_id:  # a stale signed URL: ask Viggle for a fresh one
            try:
                fresh = self._client.get_render(job.viggle_job_id).result_url
            except ApiError:
                fresh = None
            if fresh:
                fields = {"result_url": fresh, "next_attempt_at": now}
        self._store.update(job.id, State.DOWNLOADING, **fields)
        log.warning("download_failed", job_id=job.id, reason=reason, failures=failures)

    def _finish(self, job: Job, video: Path, got: Downloaded, now: float) -> None:
        self._store.update(
            job.id, State.DOWNLOADING, output_sha256=got.sha256, output_size=got.size
        )
        fresh = self._store.get(job.id) or job
        doc = build_sidecar(
            fresh,
            self._store.events(job.id),
            output=video,
            size=got.size,
            sha256=got.sha256,
            done_at=now,
        )
        write_bytes_atomic(
            sidecar_path(video), (json.dumps(doc, indent=2) + "\n").encode(), mode=self._file_mode
        )
        self._store.transition(
            job.id, State.DOWNLOADING, State.DONE, at=now, detail="output and sidecar written"
        )
        log.info(
            "job_finished",
            job_id=job.id,
            rule=job.rule,
            result="done",
            output=str(video),
            duration_s=round(now - job.created_at, 3),
            attempts=fresh.attempts,
        )
        self._on_ended(job)
