"""The settle tick: stable files → rules → hashed, deduplicated jobs in the store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Final

import structlog

from daemon.config import Rule
from daemon.outputs.archive import PROCESSED, move_input
from daemon.outputs.naming import DEFAULT_TEMPLATE, render_stem
from daemon.rules.pairing import RenderRequest, requests_for, rule_for
from daemon.store.jobs import InputRef, JobSpec, JobStore
from daemon.watch.scanner import scan
from daemon.watch.stability import SettleTracker

log = structlog.get_logger()
HASH_CHUNK: Final = 1024 * 1024


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def dedup_key(spec: JobSpec) -> str:
    """Rule + input content hashes + scene key + model: equal renders share one key."""
    canonical = json.dumps(
        {
            "rule": spec.rule,
            "character": spec.character.sha256,
            "scene": f"video:{spec.scene.sha256}",
            "model": spec.model,
            "options": {},
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Intake:
    """Turns settled files into jobs. Scene videos are hashed once per (path, size, mtime)."""

    def __init__(self, store: JobStore, rules: list[Rule], tracker: SettleTracker) -> None:
        self._store = store
        self._rules = rules
        self._tracker = tracker
        self._hash_cache: dict[tuple[Path, int, int], str] = {}

    def rescan(self, now: float) -> int:
        """Feed every candidate file of every watch folder to the tracker (startup and periodic)."""
        found = 0
        for root in sorted({r.watch for r in self._rules}):
            for path in scan(root):
                self._tracker.touch(path, now)
                found += 1
        return found

    def tick(self, now: float) -> int:
        """Enqueue the jobs for every file that has settled; return how many were new."""
        new = 0
        for stable in self._tracker.stable(now):
            rule = rule_for(self._rules, stable.path)
            if rule is None:
                continue
            log.info("file_settled", path=str(stable.path), rule=rule.name, size=stable.size)
            made = sum(self._enqueue(r, now) for r in requests_for(rule, stable.path))
            if not made and not self._store.source_states(str(stable.path)):
                self._already_rendered(stable.path)
            new += made
        return new

    def _already_rendered(self, path: Path) -> None:
        """Every render this file asks for exists already (same content): file it away."""
        try:
            moved = move_input(path, PROCESSED)
        except OSError as exc:
            log.warning("input_not_moved", path=str(path), reason=exc.strerror)
            return
        self._tracker.forget(path)
        log.info("input_duplicate", path=str(path), to=str(moved))

    def _ref(self, role: str, path: Path) -> InputRef:
        st = path.stat()
        key = (path, st.st_size, st.st_mtime_ns)
        if key not in self._hash_cache:
            self._hash_cache[key] = sha256_file(path)
        return InputRef(role, str(path), self._hash_cache[key], st.st_size)

    def _enqueue(self, request: RenderRequest, now: float) -> int:
        try:
            character = self._ref("character", request.character)
            scene = self._ref("scene", request.scene_video)
        except OSError as exc:
            log.warning(
                "input_unreadable", rule=request.rule, path=str(exc.filename), reason=exc.strerror
            )
            return 0
        stem = render_stem(
            DEFAULT_TEMPLATE,
            {
                "character": request.character.stem,
                "scene": request.scene_video.stem,
            },
        )
        spec = JobSpec(request.rule, character, scene, request.model, stem)
        key = dedup_key(spec)
        job_id = self._store.enqueue(spec, dedup_key=key, source_path=character.path, at=now)
        if job_id is None:
            log.info("job_deduplicated", rule=request.rule, path=character.path, scene=scene.path)
            return 0
        log.info(
            "job_queued",
            job_id=job_id,
            rule=request.rule,
            path=character.path,
            scene=scene.path,
            model=request.model,
        )
        return 1
