"""A download that goes on only while its job is this host's, and what a host does when it
finds it has lost a job (issue 19 §1; docs/scaling-out.md).

A host paused longer than its lease (SIGSTOP, a frozen VM) may wake in the middle of a
download whose job another host has taken over meanwhile. The bytes it writes go to its own
part file only (named after the job and the host), so they cannot spoil anything; still, it
should not spend minutes finishing a download that is not its own any more. So the first
write of a download proves the job is still this host's, and so does every write that comes
once the last proof is older than a heartbeat: a host woken from a pause proves it before its
next byte. A lost job is dropped: this host's part files of it go (never a published file,
never another host's), ``job_lost`` is logged, and nothing else is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import structlog

from viggle_watch.errors import JobLostError
from viggle_watch.outputs.atomic import download_tag, part_path
from viggle_watch.outputs.sidecar import mask_path
from viggle_watch.store.jobs import Job

log = structlog.get_logger()


def proof_age_s(lease_s: float) -> float:
    """How old a proof may get before a download proves the job is its own again: the
    heartbeat's period (a quarter of the lease, at most 15 s, at least 1 s)."""
    return max(1.0, min(lease_s / 4, 15.0))


def proof_due(proved_at: float | None, now: float, every_s: float) -> bool:
    """Pure: whether a write at ``now`` (a monotonic clock) must prove first — the first write
    (never proved), or the last proof is ``every_s`` old or older."""
    return proved_at is None or now - proved_at >= every_s


class ProvedWrites:
    """The part file a download fills, whose writes (and truncation, on a restart) go on only
    after ``prove`` passed (it raises ``JobLostError`` when the job is lost)."""

    def __init__(
        self,
        f: IO[bytes],
        prove: Callable[[], None],
        *,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,  # a pause (SIGSTOP) counts: monotonic does
    ) -> None:
        self._f, self._prove, self._every_s, self._clock = f, prove, every_s, clock
        self._proved_at: float | None = None

    def file(self) -> IO[bytes]:
        """This, for code that writes to a file: ``write``, ``flush``, ``seek``, ``truncate``."""
        return cast(IO[bytes], self)

    def _proved(self) -> None:
        now = self._clock()
        if proof_due(self._proved_at, now, self._every_s):
            self._prove()
            self._proved_at = self._clock()

    def write(self, data: bytes) -> int:
        self._proved()
        return self._f.write(data)

    def truncate(self, size: int | None = None) -> int:
        self._proved()
        return self._f.truncate(size)

    def __getattr__(self, name: str) -> Any:  # flush, seek, fileno …: the file's own
        return getattr(self._f, name)


def drop_lost(job: Job, target: Path | None, host: str, lost: JobLostError) -> None:
    """The job is not this host's any more: remove this host's part files of it (the video's
    and the mask's, named after the job and this host) and say so. Published files, files in
    ``_review/`` and other hosts' part files are never touched."""
    tag = download_tag(job.id, host)
    removed = []
    target = target or (Path(job.output_path) if job.output_path else None)
    if target is not None:
        for dest in (target, mask_path(target)):
            part = part_path(dest, tag)
            try:
                part.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("part_not_removed", job_id=job.id, path=str(part), reason=str(exc))
                continue
            removed.append(str(part))
    log.warning(
        "job_lost",
        job_id=job.id,
        rule=job.rule,
        host=host,
        holder=lost.holder,
        reason=lost.reason,
        parts_removed=removed,
    )
