"""The settle tick: stable files → rules → hashed, deduplicated jobs in the store."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Final

import structlog

from daemon.config import Rule
from daemon.media import video_duration_s
from daemon.outputs.archive import PROCESSED, move_input
from daemon.outputs.naming import DEFAULT_TEMPLATE, render_stem
from daemon.rules.pairing import RenderRequest, requests_for, rule_for
from daemon.store.jobs import JobStore
from daemon.store.spec import CastMember, InputRef, JobSpec, RenderChoices, dedup_key, scene_label
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


class Intake:
    """Turns settled files into jobs. Fixed inputs are hashed once per (path, size, mtime)."""

    def __init__(self, store: JobStore, rules: list[Rule], tracker: SettleTracker) -> None:
        self._store = store
        self._rules = rules
        self._tracker = tracker
        self._refs: dict[tuple[str, Path, int, int], InputRef] = {}

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
            requests = requests_for(rule, stable.path)
            made = sum(self._enqueue(r, now) for r in requests)
            if requests and not made and not self._store.source_states(str(stable.path)):
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

    def _ref(self, role: str, path: Path, *, video: bool = False) -> InputRef:
        st = path.stat()
        key = (role, path, st.st_size, st.st_mtime_ns)
        if key not in self._refs:
            duration = video_duration_s(path) if video else None
            self._refs[key] = InputRef(role, str(path), sha256_file(path), st.st_size, duration)
        return self._refs[key]

    def _spec(self, request: RenderRequest) -> JobSpec:
        rule, scene = request.rule, request.scene
        spec = JobSpec(
            rule=rule.name,
            character=self._ref("character", request.character),
            scene=self._ref("scene", scene.video, video=True) if scene.video else None,
            model=rule.model,
            output_name="",
            mode=rule.mode,
            template=scene.template,
            scene_id=scene.scene_id,
            segment=scene.segment,
            cast=tuple(
                CastMember(seg, self._ref("cast", path)) for seg, path in sorted(scene.cast.items())
            ),
            options=RenderChoices(rule.background_mode, rule.bg_color, rule.fast),
        )
        stem = render_stem(
            DEFAULT_TEMPLATE, {"character": request.character.stem, "scene": scene_label(spec)}
        )
        return replace(spec, output_name=stem)

    def _enqueue(self, request: RenderRequest, now: float) -> int:
        try:
            spec = self._spec(request)
        except (OSError, ValueError) as exc:
            log.warning(
                "input_unreadable",
                rule=request.rule.name,
                path=str(request.character),
                reason=str(exc),
            )
            return 0
        key = dedup_key(spec)
        job_id = self._store.enqueue(spec, dedup_key=key, source_path=spec.character.path, at=now)
        bound = log.bind(rule=spec.rule, path=spec.character.path, scene=spec.scene_key)
        if job_id is None:
            bound.info("job_deduplicated")
            return 0
        bound.info("job_queued", job_id=job_id, model=spec.model, mode=spec.mode)
        return 1
