"""Ending a downloaded job (docs/deliverables.md): the acceptance gate, then the deliverables,
then the render and its mask renamed into the output folder, then the sidecar — the file
pipelines wait for — and ``done``. A render that fails the gate goes to ``OUTPUT/_review/``
instead and the job to ``review``: nothing broken reaches the output folder proper.

Every step may be cut short by a crash and run again: the downloaded bytes are held (in this
host's part file, in ``_review/`` or already published) until the job is ``done``.

Nothing is placed in the output folder unless the job is still this host's (``store.holding``;
a host woken from a long pause finds its job taken over and stops): the check comes before
the gate, and again — on a shared store under the job's row lock, in the transaction that ends
the job — around the renames and the sidecar."""

from __future__ import annotations

import glob
import grp
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import structlog

from viggle_watch.errors import DownloadError
from viggle_watch.outputs.atomic import (
    PART_SUFFIX,
    check_part,
    download_tag,
    place_part,
    write_bytes_atomic,
)
from viggle_watch.outputs.sidecar import build_sidecar, mask_path, review_path, sidecar_path
from viggle_watch.render.children import MediaWorker
from viggle_watch.render.deliver import Made, discard_made, make_parts, place_made
from viggle_watch.render.moves import move_clearing_error
from viggle_watch.render.review import (
    Inspection,
    accepted_by_person,
    inspect,
    not_a_video,
    quarantine,
    review_section,
)
from viggle_watch.render.submitter import render_seconds
from viggle_watch.store.holding import Holds
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State
from viggle_watch.viggle.client import Downloaded

log = structlog.get_logger()
TRANSPARENT = "transparent"


@dataclass(frozen=True, slots=True)
class OutputRule:
    """Where a rule's outputs go and how they are written."""

    folder: Path
    collision: str = "suffix"  # suffix | overwrite | skip (skip is decided before rendering)
    file_mode: int = 0o644
    group: str | None = None
    deliver: frozenset[str] = frozenset({"mp4"})


@dataclass(frozen=True, slots=True)
class Held:
    """Downloaded bytes, complete and checked, and where they lie now."""

    path: Path
    got: Downloaded


def set_group(path: Path, group: str | None) -> None:
    if group is None:
        return
    try:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
    except (KeyError, OSError) as exc:
        log.warning("output_group_not_set", path=str(path), group=group, reason=str(exc))


REFUSALS_BEFORE_REVIEW: Final = 3
"""A result that is not a video at all is downloaded again (a bad hop may have served a page);
the third in a row is kept, and goes to review."""


class Publisher:
    def __init__(self, store: JobStore, holds: Holds, on_ended: Callable[[Job], None]) -> None:
        self._store, self._holds, self._on_ended = store, holds, on_ended
        self._worker = MediaWorker()  # measures each render; started when needed
        self._refusals: dict[int, int] = {}  # job id → results in a row that were not videos

    def close(self) -> None:
        self._worker.close()

    def finish(
        self, job: Job, video: Path, held: Held, mask: Held | None, out: OutputRule, now: float
    ) -> None:
        """Judge, deliver, publish and end ``job`` whose render (``held``) is to be ``video``.
        An ``OSError`` or ``DownloadError`` leaves the job ``downloading`` (retried later); a
        ``JobLostError`` says it is not this host's any more (nothing was placed)."""
        self._holds.check(job.id, State.DOWNLOADING)  # before the gate and the deliverables
        accepted = accepted_by_person(self._store.events(job.id))
        transparent = job.spec.options.background_mode == TRANSPARENT
        checked = inspect(
            held.path,
            mask.path if mask else None,
            asked_s=render_seconds(job) or None,
            transparent=transparent,
            worker=self._worker,
        )
        if not accepted and not_a_video(checked) and held.path.name.endswith(PART_SUFFIX):
            self._refuse(job, held, checked)
        self._refusals.pop(job.id, None)
        if checked.failed and not accepted:
            self._hold_for_review(job, video, held, mask, checked, out, now)
            return
        made = Made()
        try:
            if not any(f.check == "decodes" for f in checked.failed):  # else: nothing to make
                tag = download_tag(job.id, self._store.host)
                made = make_parts(
                    out.deliver,
                    held.path,
                    mask.path if mask else None,
                    video,
                    footage=checked.footage,
                    mode=out.file_mode,
                    tag=tag,
                )
            for copy in (held, mask):  # the bytes received, still: checked outside the lock
                if copy is not None and copy.path.name.endswith(PART_SUFFIX):
                    check_part(copy.path, copy.got)
            with self._holds.placing(job.id, State.DOWNLOADING):
                self._place(job, video, held, mask, made, out, now, accepted=accepted)
        finally:
            discard_made(made)  # what was not placed (the job was lost, or a step failed)
        log.info(
            "output_written", job_id=job.id, rule=job.rule, output=str(video), size=held.got.size
        )
        _clear_other_holders(job, [video, mask_path(video)])
        self._on_ended(job)

    def _place(
        self,
        job: Job,
        video: Path,
        held: Held,
        mask: Held | None,
        made: Made,
        out: OutputRule,
        now: float,
        *,
        accepted: bool,
    ) -> None:
        """Into the output folder — the deliverables, the render, its mask, then the sidecar —
        and ``done``: only renames, checks and one small write (``Holds.placing``)."""
        for note in made.notes:  # the mask differed from the render: say by how much
            self._store.note(job.id, note, at=now)
        place_made(made, video.parent)
        for entry in made.entries:
            set_group(Path(entry["path"]), out.group)
        self._publish(held, video, out)
        if mask is not None:
            self._publish(mask, mask_path(video), out)
        self._write_sidecar(job, video, held, mask, made, out, now)
        if accepted:  # the render left _review/: its sidecar there goes too
            sidecar_path(review_path(video)).unlink(missing_ok=True)
        detail = "output and sidecar written" + (" (accepted by a person)" if accepted else "")
        move_clearing_error(self._store, job, State.DOWNLOADING, State.DONE, now, detail, mine=True)

    def _refuse(self, job: Job, held: Held, checked: Inspection) -> None:
        """Not a video at all: download it again (the bytes dropped), up to the last time."""
        refusals = self._refusals.get(job.id, 0) + 1
        if refusals >= REFUSALS_BEFORE_REVIEW:
            return  # the same answer every time: Viggle's file; the gate sends it to review
        self._refusals[job.id] = refusals
        held.path.unlink(missing_ok=True)
        detail = checked.failed[0].detail if checked.failed else "no frame"
        raise DownloadError(
            f"not published: the result is not a playable video ({detail}); downloading it"
            f" again ({refusals} of {REFUSALS_BEFORE_REVIEW - 1})"
        )

    @staticmethod
    def _publish(held: Held, dest: Path, out: OutputRule) -> None:
        if held.path != dest:
            place_part(held.path, dest, held.got)
        set_group(dest, out.group)

    def _write_sidecar(
        self,
        job: Job,
        video: Path,
        held: Held,
        mask: Held | None,
        made: Made,
        out: OutputRule,
        now: float,
    ) -> None:
        fresh = self._store.get(job.id) or job
        doc = build_sidecar(
            fresh,
            self._store.events(job.id),
            output=video,
            size=held.got.size,
            sha256=held.got.sha256,
            done_at=now,
            mask=(mask.got.size, mask.got.sha256) if mask else None,
            deliverables=made.entries,
        )
        path = sidecar_path(video)
        write_bytes_atomic(path, (json.dumps(doc, indent=2) + "\n").encode(), mode=out.file_mode)
        set_group(path, out.group)

    def _hold_for_review(
        self,
        job: Job,
        video: Path,
        held: Held,
        mask: Held | None,
        checked: Inspection,
        out: OutputRule,
        now: float,
    ) -> None:
        """The render failed the gate: to ``_review/`` with a sidecar naming the failed checks;
        the job waits for a person (never rendered again on its own: that costs money)."""
        section = review_section(checked, job.id)
        fresh = self._store.get(job.id) or job
        doc = build_sidecar(
            fresh,
            self._store.events(job.id),
            output=review_path(video),
            size=held.got.size,
            sha256=held.got.sha256,
            done_at=now,
            mask=(mask.got.size, mask.got.sha256) if mask else None,
            review=section,
        )
        failed = "; ".join(f.detail for f in checked.failed)
        with self._holds.placing(job.id, State.DOWNLOADING):
            where = quarantine(
                video, held.path, mask.path if mask else None, doc, mode=out.file_mode
            )
            for path in (where, mask_path(where), sidecar_path(where)):
                if path.exists():
                    set_group(path, out.group)
            self._store.transition(
                job.id,
                State.DOWNLOADING,
                State.REVIEW,
                at=now,
                detail=f"failed the acceptance gate ({failed}); held in {where}",
                error_message=f"needs a look: {failed}",
                mine=True,
            )
        log.warning(
            "render_held_for_review",
            job_id=job.id,
            rule=job.rule,
            checks=[f.check for f in checked.failed],
            path=str(where),
        )
        self._on_ended(job)


def _clear_other_holders(job: Job, published: list[Path]) -> None:
    """The job is done: part files other hosts left for it (a host that died holding it) go.
    A host that only slept and wakes up finds its file gone and stops (its rename fails)."""
    for dest in published:
        for part in dest.parent.glob(f"{glob.escape(dest.name)}.{job.id}-*{PART_SUFFIX}"):
            part.unlink(missing_ok=True)
            log.info("part_of_other_holder_removed", job_id=job.id, path=str(part))
