"""What the job store and the folders show of a submission's files now (the I/O around
``outcome``): the answer of ``GET /api/v1/submissions/{id}``, the same after a restart."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from viggle_watch.clock import iso
from viggle_watch.config import PairsRule, Rule
from viggle_watch.errors import StoreError
from viggle_watch.outputs.failure import FAILED, PROCESSED
from viggle_watch.outputs.filing import error_name
from viggle_watch.reading import read_capped
from viggle_watch.rules.pairing import is_image, is_manifest, is_video
from viggle_watch.store.backend import Backend
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.submissions import (
    Submission,
    SubmissionStore,
    SubmittedFile,
    jobs_with_input,
)
from viggle_watch.web.submissions.outcome import Found, Outcome, combined, outcome, to_keep

ERROR_LIMIT: Final = 256 * 1024  # bytes of a NAME.error.json read


def answer(
    sub: Submission,
    *,
    rules: Mapping[str, Rule],
    db: Backend | None,
    records: SubmissionStore,
    settle_s: float,
) -> dict[str, Any]:
    """The submission as the API shows it: its state, jobs and reason, and each file's."""
    rule = rules.get(sub.rule)
    manifests = any(is_manifest(Path(f.name)) for f in sub.files)
    results: dict[str, Outcome] = {}
    for file in sub.files:
        if manifests and not is_manifest(Path(file.name)):
            continue  # a file a manifest names: the manifest's jobs are its jobs
        found = _find(sub, file, rule, db)
        results[file.path] = outcome(found, rule=rule, name=file.name, settle_s=settle_s)
        kept = to_keep(found, results[file.path])
        if kept is not None:
            with contextlib.suppress(StoreError):  # kept to answer the same later: not vital
                records.decide(sub.id, file.path, kept)
    whole = combined([(f.name, results[f.path]) for f in sub.files if f.path in results])
    return {
        "id": sub.id,
        "rule": sub.rule,
        "created": iso(sub.created_at),
        **_shown(whole),
        "files": [
            {
                "name": f.name,
                "sent_as": f.sent_as,
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256,
                "input": f.path in results,
                **_shown(results.get(f.path, whole)),
            }
            for f in sub.files
        ],
    }


def _shown(result: Outcome) -> dict[str, Any]:
    return {
        "state": result.state,
        "jobs": list(result.jobs),
        "code": result.code,
        "reason": result.reason,
        "waits": result.waits,
        "duplicate_of": list(result.duplicate_of),
    }


def _ours(job: Job, sub: Submission, file: SubmittedFile) -> bool:
    """Whether ``job`` was made from this submission's file: made after it, and (but for a
    manifest, whose jobs hold the files it names) from these very bytes — a later file at the
    same path, after this one was refused and moved away, is not this submission's."""
    if job.created_at < sub.created_at:
        return False
    if is_manifest(Path(file.name)):
        return True
    spec = job.spec
    held = {spec.character.sha256, *(c.character.sha256 for c in spec.cast)}
    if spec.scene is not None:
        held.add(spec.scene.sha256)
    return file.sha256 in held


def _find(sub: Submission, file: SubmittedFile, rule: Rule | None, db: Backend | None) -> Found:
    if file.path in sub.decided:  # a refusal or duplicate seen once stays the answer
        return Found(decided=sub.decided[file.path])
    store = JobStore(db) if db is not None else None
    if store is not None:
        made = [j.id for j in store.source_jobs(file.path) if _ours(j, sub, file)]
        if made:
            return Found(jobs=tuple(made))
    path = Path(file.path)
    try:
        st = path.lstat()
    except OSError:
        st = None
    if st is not None and (st.st_dev, st.st_ino) == (file.device, file.inode):
        seen = (
            store is not None
            and rule is not None
            and rule.inputs == "leave"
            and store.seen(rule.name, file.path, st.st_size, st.st_mtime_ns)
        )
        return Found(handled_in_place=seen, partner_there=_partner_there(rule, path))
    failed = _moved_to(path.parent / FAILED, file)
    if failed is not None:
        return Found(where="failed", error=_error_document(failed))
    if _moved_to(path.parent / PROCESSED, file) is not None:
        repeats = jobs_with_input(db, sub.rule, file.sha256) if db is not None else []
        return Found(where="processed", duplicate_of=tuple(repeats))
    return Found(where="gone")


def _moved_to(folder: Path, file: SubmittedFile) -> Path | None:
    """The file in ``folder`` (filed as ``NAME`` or ``NAME-2``…), known by its inode."""
    stem = file.name.split(".", 1)[0]
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith(stem) or entry.inode() != file.inode:
                    continue
                if entry.stat(follow_symlinks=False).st_dev == file.device:
                    return Path(entry.path)
    except OSError:
        return None
    return None


def _error_document(moved: Path) -> dict[str, Any] | None:
    data = read_capped(moved.with_name(error_name(moved.name)), ERROR_LIMIT)
    try:
        document = json.loads(data) if data and len(data) <= ERROR_LIMIT else None
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _partner_there(rule: Rule | None, path: Path) -> bool:
    """A pairs rule's file: is a file of the other kind with the same stem in the folder?"""
    if not isinstance(rule, PairsRule):
        return True
    other = is_video if is_image(path) else is_image
    try:
        with os.scandir(path.parent) as entries:
            return any(Path(e.name).stem == path.stem and other(Path(e.name)) for e in entries)
    except OSError:
        return False
