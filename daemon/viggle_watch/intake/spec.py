"""The intake's helpers: from a render request to a job spec (hashing inputs, rule options and
manifest overrides, the output name from the rule's naming template), and the small questions
the settle tick asks of a file (what a host claims, what may share a store batch)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from viggle_watch.config import PairsRule, Rule
from viggle_watch.outputs.naming import JOB_PLACEHOLDER, render_stem, safe_stem
from viggle_watch.reading import read_capped
from viggle_watch.rules.manifest import MAX_MANIFEST_BYTES
from viggle_watch.rules.pairing import RenderRequest, is_image
from viggle_watch.store.remembered import Remembered, identity_of
from viggle_watch.store.spec import CastMember, InputRef, JobSpec, RenderChoices, scene_label
from viggle_watch.watch.stability import StableFile

HASH_CHUNK: Final = 1024 * 1024
LIGHT_BYTES: Final = 4 * 1024 * 1024  # images up to this size are checked in a batch


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _choices(request: RenderRequest) -> RenderChoices:
    """The rule's options with the manifest's on top; a colour only goes with `solid`."""
    rule, o = request.rule, request.overrides
    mode = o.background_mode or rule.background_mode
    color = o.bg_color or (rule.bg_color if o.background_mode is None else None)
    return RenderChoices(
        mode, color if mode == "solid" else None, rule.fast if o.fast is None else o.fast
    )


class SpecBuilder:
    """Hashes each identity of an input once (in this process, and across processes through
    ``remembered``); fixed assets are hashed once."""

    def __init__(self, remembered: Remembered | None = None) -> None:
        self._remembered = remembered or Remembered.nothing()
        self._refs: dict[tuple[str, Path, int, int], InputRef] = {}

    def ref(self, role: str, path: Path, *, duration_s: float | None = None) -> InputRef:
        st = path.stat()
        key = (role, path, st.st_size, st.st_mtime_ns)
        if key not in self._refs:
            self._refs[key] = InputRef(
                role, str(path), self.sha256(path, st), st.st_size, duration_s
            )
        return self._refs[key]

    def sha256(self, path: Path, st: os.stat_result) -> str:
        identity = identity_of(st)
        found = self._remembered.get(path, "sha256", identity)
        if isinstance(found, str):
            return found
        digest = sha256_file(path)
        if identity_of(path.stat()) == identity:  # not written to while it was read
            self._remembered.put(path, "sha256", identity, digest)
        return digest

    def build(self, request: RenderRequest, *, now: float, video_s: float | None) -> JobSpec:
        rule, scene, o = request.rule, request.scene, request.overrides
        spec = JobSpec(
            rule=rule.name,
            character=self.ref("character", request.character),
            scene=self.ref("scene", scene.video, duration_s=video_s) if scene.video else None,
            model=o.model or rule.model,
            output_name="",
            mode=o.mode or rule.mode,
            template=scene.template,
            scene_id=scene.scene_id,
            segment=scene.segment,
            cast=tuple(
                CastMember(seg, self.ref("cast", path)) for seg, path in sorted(scene.cast.items())
            ),
            options=_choices(request),
        )
        name = safe_stem(o.output) if o.output else self.stem(request, spec, now)
        return replace(spec, output_name=name)

    @staticmethod
    def stem(request: RenderRequest, spec: JobSpec, now: float) -> str:
        values = {
            "character": request.character.stem,
            "scene": scene_label(spec),
            "template": spec.template or "",
            "model": spec.model,
            "rule": spec.rule,
            "date": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d"),
            "job": JOB_PLACEHOLDER,
            "stem": request.sources[0].name.split(".")[0],
        }
        return render_stem(request.rule.naming, values)


def is_light(stable: StableFile) -> bool:
    """An image small enough to check and hash in a few milliseconds."""
    return stable.size <= LIGHT_BYTES and is_image(stable.path)


def claim_key(rule: Rule, stable: StableFile) -> tuple[Path, int, int]:
    """What a host claims: the file; for pairs, the stem (both partners go to one host)."""
    if isinstance(rule, PairsRule):
        return stable.path.parent / f"{stable.path.stem}.pair", 0, 0
    return stable.path, stable.size, stable.mtime_ns


def read_text(path: Path) -> str | None:
    """A manifest's text: at most one byte over the manifest cap (so a huge file is refused
    without being read whole), from a regular file only; None for anything else."""
    data = read_capped(path, MAX_MANIFEST_BYTES)
    return None if data is None else data.decode("utf-8", errors="replace")
