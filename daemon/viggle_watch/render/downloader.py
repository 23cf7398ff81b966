"""The download tick: fetch finished renders (and masks), write the sidecar, end the job.

Each step proves the job is still this host's first (``store.holding``): at the start of each
job (a tick's list may be old: the host may have been paused since), before the first byte
of a download and again whenever a proof is older than a heartbeat (``render.lost``), with
every field it writes, and around the placement (``render.publishing``). A job found lost is
dropped at once: this host's part files of it go, ``job_lost`` is logged, nothing else."""

from __future__ import annotations

import errno
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import structlog

from viggle_watch.errors import ApiError, DownloadError, JobLostError
from viggle_watch.notify.metrics import timed
from viggle_watch.outputs.atomic import (
    PART_SUFFIX,
    download_tag,
    fill_resumable,
    host_tag,
    part_path,
    sha256_of,
)
from viggle_watch.outputs.naming import JOB_PLACEHOLDER, free_path
from viggle_watch.outputs.sidecar import mask_path, review_path, sidecar_path
from viggle_watch.render.lost import ProvedWrites, drop_lost, proof_age_s
from viggle_watch.render.publishing import Held, OutputRule, Publisher
from viggle_watch.render.retry import download_delay_s
from viggle_watch.render.wiring import Wiring
from viggle_watch.store.holding import Holds
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State
from viggle_watch.viggle.client import Downloaded

log = structlog.get_logger()
MAX_OUTPUT_BYTES: Final = 2 * 1024**3
REFRESHES_PER_TICK: Final = 2
"""Fresh URLs one job may fetch in one tick. An expired URL is refreshed and used at once: left
for the next tick, behind the backlog of other downloads, a short-lived URL expires again before
it is used (a livelock). A URL that expires even when used right after its refresh waits out a
growing backoff instead of spinning."""


@dataclass(frozen=True, slots=True)
class OutputSettings:
    rules: Mapping[str, OutputRule]  # rule name → its output settings (read-only)
    max_bytes: int = MAX_OUTPUT_BYTES


class Downloader:
    """Downloads are idempotent: a failed one is retried with backoff, never re-rendered."""

    def __init__(
        self,
        wiring: Wiring,
        settings: OutputSettings,
        *,
        holds: Holds,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._store, self._client, self._on_ended = wiring.store, wiring.client, wiring.on_ended
        self._metrics = wiring.metrics
        self._settings = settings
        self._holds = holds  # is the job still this host's? (issue 19 §1)
        self._rand = rand  # the jitter of retry delays (tests pass a constant)
        self._failures: dict[int, int] = {}
        self._publisher = Publisher(wiring.store, holds, wiring.on_ended)
        self._progress: dict[int, int] = {}  # job id → bytes of its .part at the last failure

    def close(self) -> None:
        """End the child that measures renders (it would end on its own once idle)."""
        self._publisher.close()

    def configure(self, settings: OutputSettings) -> None:
        """A reloaded config's output settings, swapped whole; they apply from the next job."""
        self._settings = settings

    def tick(self, now: float) -> int:
        jobs = self._store.due(State.DOWNLOADING, now)
        for job in jobs:
            self._download(job, now)
        return len(jobs)

    def _target(self, job: Job) -> Path:
        """The output path, chosen once and stored so a retried download rewrites the same file."""
        if job.output_path:
            return Path(job.output_path)
        out = self._out(job)
        stem = job.spec.output_name.replace(JOB_PLACEHOLDER, str(job.id))
        if out.collision == "overwrite":
            path = out.folder / f"{stem}.mp4"
        else:
            path = free_path(  # a render held in _review/ keeps its name until it is decided
                out.folder,
                stem,
                ".mp4",
                lambda p: p.exists() or sidecar_path(p).exists() or review_path(p).exists(),
            )
        self._holds.update(job.id, State.DOWNLOADING, output_path=str(path))
        return path

    def _out(self, job: Job) -> OutputRule:
        out = self._settings.rules.get(job.rule)
        if out is None:  # the rule was removed by a reload: keep its last known folder
            folder = Path(job.output_path).parent if job.output_path else Path.cwd()
            out = OutputRule(folder)
        return out

    def _fetch(self, job: Job, url: str, dest: Path) -> Held:
        """Download ``url`` into this host's part file of ``dest`` (not published: the gate
        judges it first)."""

        def prove() -> None:
            self._holds.check(job.id, State.DOWNLOADING)

        def fetch(f: IO[bytes], offset: int, digest: Any) -> Downloaded:
            out = ProvedWrites(f, prove, every_s=proof_age_s(self._store.lease_s))
            return self._client.download(
                url, out.file(), max_bytes=self._settings.max_bytes, offset=offset, digest=digest
            )

        tag = download_tag(job.id, self._store.host)  # this job's, on this host: never shared
        with timed(self._metrics.observe_download):
            got = fill_resumable(dest, fetch, mode=self._out(job).file_mode, tag=tag)
        return Held(part_path(dest, tag), got)

    def _held(self, job: Job, dest: Path, size: int | None, sha256: str | None) -> Held | None:
        """Where the complete download of ``dest`` lies (before a restart, or a person's
        `jobs accept`): this host's part file (never another host's; its bytes are checked
        before they are placed), or ``_review/`` or published already — those only with the
        very bytes downloaded (whoever put them there)."""
        if size is None or sha256 is None:
            return None
        tag = download_tag(job.id, self._store.host)
        for path in (part_path(dest, tag), review_path(dest), dest):
            try:
                if path.stat().st_size != size:
                    continue
                foreign = path in (dest, review_path(dest))  # placed there by whoever
                if foreign and sha256_of(path).hexdigest() != sha256:
                    continue
                return Held(path, Downloaded(size, sha256))
            except OSError:
                continue
        return None

    def _download(self, job: Job, now: float) -> None:
        target: Path | None = None
        try:
            self._holds.check(job.id, State.DOWNLOADING)  # the tick's list may be old
            target = self._target(job)
            self._attempt(job, target, now)
        except JobLostError as exc:
            drop_lost(job, target, self._store.host, exc)
            for memory in (self._failures, self._progress):
                memory.pop(job.id, None)

    def _attempt(self, job: Job, target: Path, now: float) -> None:
        refreshes = 0
        while True:
            try:
                video = self._video(job, target)
                mask = self._mask(job, target)
                break
            except DownloadError as exc:
                self._metrics.api_error(exc)
                if exc.expired and refreshes < REFRESHES_PER_TICK:
                    refreshes += 1
                    fresh = self._refresh(job)
                    if fresh is not None:  # use the fresh URL now, while it is fresh
                        job = fresh
                        continue
                    # no fresh URL (the status GET failed): try again after a short delay
                    self._retry_later(job, now, str(exc), grow=False)
                    return
                # not an expiry, or the URL expired again right after its refresh
                self._retry_later(job, now, str(exc), grow=True)
                return
            except OSError as exc:
                reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
                self._retry_later(job, now, f"cannot write {target}: {reason}", grow=True)
                return
        try:
            self._publisher.finish(job, target, video, mask, self._out(job), now)
        except OSError as exc:  # e.g. disk full: the download is kept, tried again later
            reason = exc.strerror or str(exc)
            if exc.errno == errno.ENOSPC and "disk full" not in reason:
                reason = f"disk full ({reason})"
            self._retry_later(job, now, f"cannot write the outputs: {reason}", grow=True)
            return
        except DownloadError as exc:  # the gate or a deliverable could not run: kept, retried
            self._retry_later(job, now, str(exc), grow=True)
            return
        for memory in (self._failures, self._progress):
            memory.pop(job.id, None)

    def _refresh(self, job: Job) -> Job | None:
        """Ask Viggle for freshly signed URLs (never submit again); the job with them, or None."""
        if not job.viggle_job_id:
            return None
        try:
            status = self._client.get_render(job.viggle_job_id)
        except ApiError as exc:
            self._metrics.api_error(exc)
            log.warning("download_url_not_refreshed", job_id=job.id, reason=str(exc))
            return None
        if not status.result_url:
            log.warning("download_url_not_refreshed", job_id=job.id, reason="no result URL")
            return None
        self._holds.update(
            job.id, State.DOWNLOADING, result_url=status.result_url, mask_url=status.mask_cdn_url
        )
        log.info("download_url_refreshed", job_id=job.id)
        # read back: the video may be written already (its sha256 stored) while the mask expired
        return self._store.get(job.id)

    def _video(self, job: Job, target: Path) -> Held:
        held = self._held(job, target, job.output_size, job.output_sha256)
        if held is not None:
            return held  # downloaded before a restart, or accepted from review
        assert job.result_url is not None
        held = self._fetch(job, job.result_url, target)
        self._holds.update(
            job.id, State.DOWNLOADING, output_sha256=held.got.sha256, output_size=held.got.size
        )
        log.info("render_downloaded", job_id=job.id, rule=job.rule, size=held.got.size)
        return held

    def _mask(self, job: Job, target: Path) -> Held | None:
        if not job.mask_url:
            return None
        dest = mask_path(target)
        held = self._held(job, dest, job.mask_size, job.mask_sha256)
        if held is not None:
            return held
        held = self._fetch(job, job.mask_url, dest)
        self._holds.update(
            job.id,
            State.DOWNLOADING,
            mask_path=str(dest),
            mask_sha256=held.got.sha256,
            mask_size=held.got.size,
        )
        return held

    def _retry_later(self, job: Job, now: float, reason: str, *, grow: bool) -> None:
        """Keep the job in ``downloading``, due again after a jittered backoff.

        ``grow`` False (the URL expired and no fresh one could be fetched) does not grow the
        backoff: that is not the transfer failing.
        """
        failures = self._failures.get(job.id, 0) + (1 if grow else 0)
        got = _part_size(job, self._store.host)
        if got > self._progress.get(job.id, 0):
            failures = 1  # the partial file grew: the transfer is getting there, try again soon
        self._progress[job.id] = got
        self._failures[job.id] = failures
        delay = download_delay_s(failures, rand=self._rand)
        # shown by `status` while the download waits (e.g. "disk full"); cleared when done
        self._holds.update(
            job.id,
            State.DOWNLOADING,
            next_attempt_at=now + delay,
            error_message=f"download retrying: {reason}",
        )
        log.warning(
            "download_failed",
            job_id=job.id,
            reason=reason,
            failures=failures,
            retry_in_s=round(delay, 1),
        )


def _part_size(job: Job, host: str) -> int:
    if not job.output_path:
        return 0
    try:
        return part_path(Path(job.output_path), download_tag(job.id, host)).stat().st_size
    except OSError:
        return 0


def owned_parts(jobs: list[Job], host: str) -> set[Path]:
    """The temp files of this host's unfinished downloads."""
    return {
        part_path(Path(p), download_tag(j.id, host))
        for j in jobs
        for p in (j.output_path, j.mask_path)
        if p
    }


def stale_parts(folders: list[Path], owned: set[Path], host: str) -> list[Path]:
    """Temp files in the output folders that this host left and no unfinished download of
    its owns (another host's are never touched: the output folders may be shared)."""
    mine = f"-{host_tag(host)}{PART_SUFFIX}"
    return sorted(
        p
        for folder in folders
        if folder.is_dir()
        for p in folder.glob(f"*{PART_SUFFIX}")
        if p.name.endswith(mine) and p not in owned
    )
