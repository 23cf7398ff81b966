"""State of the local Viggle emulator: jobs, assets, credits, hosted files and statistics.

No HTTP here. Lifecycles are pure functions of the time elapsed since creation, read from an
injected clock, so tests move jobs and assets forward by advancing a fake clock instead of
sleeping. Balances are derived, not booked: a key's balance is its starting credits minus what
its jobs hold now (a failed or cancelled job holds nothing: that is the refund) minus one
credit per character it preprocessed. API keys are known here only by their fingerprint.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum

from viggle_watch.emulator.assets import (
    CHARACTER_COST,
    Character,
    Scene,
    SceneFacts,
    character_status,
    scene_status,
)
from viggle_watch.emulator.jobs import (
    CHECKPOINTS,
    TERMINAL,
    Job,
    JobStatus,
    RenderSpec,
    iso_utc,
)
from viggle_watch.emulator.stats import (
    CharacterCreation,
    EmulatorStats,
    RenderSubmission,
    SceneCreation,
)

__all__ = [
    "CHECKPOINTS",
    "CancelRefusal",
    "CharacterCreation",
    "Credits",
    "EmulatorState",
    "EmulatorStats",
    "JobStatus",
    "RenderSubmission",
    "SceneCreation",
    "iso_utc",
]


@dataclass(frozen=True, slots=True)
class Credits:
    """A key's account as ``GET /api/credits`` shows it."""

    balance: float
    total_purchased: float
    total_used: float
    updated_at: datetime


class CancelRefusal(Enum):
    """Why ``DELETE /api/render/{id}`` changed nothing."""

    NOT_FOUND = "not_found"
    TERMINAL = "terminal"


def _short_id() -> str:
    return secrets.token_hex(6)


class EmulatorState:
    """Thread-safe store of jobs, assets and statistics; every public method takes the lock."""

    def __init__(
        self,
        *,
        latency_s: float,
        clock: Callable[[], float],
        balance: float = 10_000.0,
        asset_delay_s: float = 1.0,
    ) -> None:
        self.latency_s = latency_s
        self.asset_delay_s = asset_delay_s
        self.starting_balance = balance
        self._clock = clock
        self._origin_s = clock()
        self._origin_wall = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()
        self._reset_locked()

    def _reset_locked(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._characters: dict[str, Character] = {}
        self._scenes: dict[str, Scene] = {}
        self._deleted: set[str] = set()
        self._owners: set[str] = set()
        self._files: dict[str, bytes] = {}
        self._calls: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._submissions: list[RenderSubmission] = []
        self._character_creations: list[CharacterCreation] = []
        self._scene_creations: list[SceneCreation] = []
        self._cdn_requests_with_auth = 0

    def reset(self) -> None:
        """Forget every job, asset, balance, hosted file and statistic."""
        with self._lock:
            self._reset_locked()

    def now_s(self) -> float:
        """Return the injected clock's current reading."""
        return self._clock()

    def wall(self, now_s: float) -> datetime:
        """The UTC wall time at clock reading ``now_s`` (it moves with a fake clock)."""
        return self._origin_wall + timedelta(seconds=now_s - self._origin_s)

    def wall_epoch_s(self, now_s: float) -> float:
        """``wall(now_s)`` as epoch seconds (what signed CDN URLs carry in ``exp``)."""
        return self.wall(now_s).timestamp()

    def count_call(self, key: str) -> None:
        """Count one request under ``key`` (method + route pattern)."""
        with self._lock:
            self._calls[key] += 1

    def count_fault(self, kind: str) -> None:
        """Count one injected fault of ``kind``."""
        with self._lock:
            self._faults[kind] += 1

    def count_cdn_request_with_auth(self) -> None:
        """Record that a CDN request carried an ``Authorization`` header."""
        with self._lock:
            self._cdn_requests_with_auth += 1

    def touch(self, owner: str) -> None:
        """Register a key (by fingerprint) that made an authenticated call."""
        with self._lock:
            self._owners.add(owner)

    # -- credits -------------------------------------------------------------------------

    def _spent_locked(self, owner: str | None, now_s: float) -> int:
        jobs = sum(j.charged(now_s) for j in self._jobs.values() if owner in (None, j.owner))
        characters = sum(1 for c in self._characters.values() if owner in (None, c.owner))
        return jobs + CHARACTER_COST * characters

    def _balance_locked(self, owner: str, now_s: float) -> float:
        return self.starting_balance - self._spent_locked(owner, now_s)

    def _updated_s_locked(self, owner: str, now_s: float) -> float:
        """Clock reading of the owner's latest credit movement (or the emulator start)."""
        moments = [self._origin_s]
        for job in self._jobs.values():
            if job.owner == owner:
                moments.append(job.submitted_s)
                progress = job.progress(now_s)
                if progress.status in (JobStatus.FAILED, JobStatus.CANCELLED):
                    moments.append(progress.ended_s or job.submitted_s)
        moments.extend(c.created_s for c in self._characters.values() if c.owner == owner)
        return max(moments)

    def credits(self, owner: str) -> Credits:
        """The account of the key with fingerprint ``owner`` now."""
        now_s = self._clock()
        with self._lock:
            balance = self._balance_locked(owner, now_s)
            return Credits(
                balance=balance,
                total_purchased=self.starting_balance,
                total_used=self.starting_balance - balance,
                updated_at=self.wall(self._updated_s_locked(owner, now_s)),
            )

    # -- renders -------------------------------------------------------------------------

    def submit(
        self, owner: str, spec: RenderSpec, *, latency_s: float, failure_code: str | None
    ) -> Job | None:
        """Reserve the render's credits and create the job; None if the balance is too low."""
        now_s = self._clock()
        with self._lock:
            if self._balance_locked(owner, now_s) < spec.cost:
                return None
            job = Job(
                job_id=f"job_{secrets.token_hex(8)}",
                owner=owner,
                spec=spec,
                submitted_s=now_s,
                created_at=self.wall(now_s),
                latency_s=latency_s,
                failure_code=failure_code,
            )
            self._jobs[job.job_id] = job
            mapping = spec.character_mapping
            self._submissions.append(
                RenderSubmission(
                    job_id=job.job_id,
                    ref_image_sha256=spec.ref_image_sha256,
                    driving_video_sha256=spec.driving_video_sha256,
                    character_id=spec.character_id,
                    scene_id=spec.scene_id,
                    model=spec.model,
                    fast=spec.fast,
                    background_mode=spec.background_mode,
                    input=spec.input,
                    character_mapping=dict(mapping) if mapping is not None else None,
                    credits_reserved=spec.cost,
                )
            )
            return job

    def job(self, job_id: str) -> Job | None:
        """Return the job with ``job_id``, or None if it is unknown."""
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, owner: str, job_id: str) -> Job | CancelRefusal:
        """Cancel the owner's queued or processing job now (its credits return to the key)."""
        now_s = self._clock()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != owner:
                return CancelRefusal.NOT_FOUND
            if job.progress(now_s).status in TERMINAL:
                return CancelRefusal.TERMINAL
            cancelled = replace(job, cancelled_s=now_s)
            self._jobs[job_id] = cancelled
            return cancelled

    # -- characters and scenes -----------------------------------------------------------

    def add_character(self, owner: str, name: str, image_sha256: str) -> Character | None:
        """Charge one credit and create a pending character; None if the balance is too low."""
        now_s = self._clock()
        with self._lock:
            if self._balance_locked(owner, now_s) < CHARACTER_COST:
                return None
            character = Character(
                character_id=str(uuid.uuid4()),
                job_id=f"char_{_short_id()}",
                owner=owner,
                name=name,
                image_sha256=image_sha256,
                created_s=now_s,
                created_at=self.wall(now_s),
            )
            self._characters[character.character_id] = character
            self._character_creations.append(
                CharacterCreation(character_id=character.character_id, image_sha256=image_sha256)
            )
            return character

    def add_scene(self, owner: str, facts: SceneFacts) -> Scene:
        """Create a pending scene (free)."""
        now_s = self._clock()
        with self._lock:
            scene = Scene(
                scene_id=str(uuid.uuid4()),
                job_id=f"scene_{_short_id()}",
                owner=owner,
                facts=facts,
                created_s=now_s,
                created_at=self.wall(now_s),
            )
            self._scenes[scene.scene_id] = scene
            self._scene_creations.append(
                SceneCreation(
                    scene_id=scene.scene_id,
                    video_sha256=facts.video_sha256,
                    model=facts.model,
                    template_id=facts.template_id,
                )
            )
            return scene

    def _is_mine_locked(self, asset: Character | Scene | None, owner: str, asset_id: str) -> bool:
        """``asset`` (stored as ``asset_id``) exists, is ``owner``'s and is not deleted."""
        return asset is not None and asset.owner == owner and asset_id not in self._deleted

    def character(self, owner: str, character_id: str) -> Character | None:
        """The owner's character, or None if unknown, someone else's or deleted."""
        with self._lock:
            found = self._characters.get(character_id)
            return found if self._is_mine_locked(found, owner, character_id) else None

    def scene(self, owner: str, scene_id: str) -> Scene | None:
        """The owner's scene, or None if unknown, someone else's or deleted."""
        with self._lock:
            found = self._scenes.get(scene_id)
            return found if self._is_mine_locked(found, owner, scene_id) else None

    def characters(self, owner: str) -> list[Character]:
        """The owner's live characters, oldest first."""
        with self._lock:
            return [c for k, c in self._characters.items() if self._is_mine_locked(c, owner, k)]

    def scenes(self, owner: str) -> list[Scene]:
        """The owner's live scenes, oldest first."""
        with self._lock:
            return [s for k, s in self._scenes.items() if self._is_mine_locked(s, owner, k)]

    def delete_asset(self, owner: str, asset_id: str) -> bool:
        """Soft-delete the owner's character or scene; False if there was none to delete."""
        with self._lock:
            asset = self._characters.get(asset_id) or self._scenes.get(asset_id)
            if not self._is_mine_locked(asset, owner, asset_id):
                return False
            self._deleted.add(asset_id)
            return True

    def character_status(self, character: Character) -> str:
        """``pending``, ``processing`` or ``ready`` now."""
        return character_status(self._clock() - character.created_s, self.asset_delay_s)

    def scene_status(self, scene: Scene) -> str:
        """``pending`` or ``ready`` now."""
        return scene_status(self._clock() - scene.created_s, self.asset_delay_s)

    # -- hosted files (what URL inputs can point at) -------------------------------------

    def put_file(self, name: str, data: bytes) -> None:
        """Host ``data`` at ``/_sim/files/{name}``."""
        with self._lock:
            self._files[name] = data

    def file(self, name: str) -> bytes | None:
        """The bytes hosted under ``name``, or None."""
        with self._lock:
            return self._files.get(name)

    # -- statistics ----------------------------------------------------------------------

    def stats(self) -> EmulatorStats:
        """Return a snapshot copy of the statistics."""
        now_s = self._clock()
        with self._lock:
            balances = {owner: self._balance_locked(owner, now_s) for owner in self._owners}
            single = next(iter(balances.values())) if len(balances) == 1 else None
            return EmulatorStats(
                calls=dict(self._calls),
                render_submissions=[RenderSubmission(**s) for s in self._submissions],
                cdn_requests_with_auth=self._cdn_requests_with_auth,
                credits_spent=float(self._spent_locked(None, now_s)),
                balance=self.starting_balance if not balances else single,
                balances=balances,
                character_creations=[CharacterCreation(**c) for c in self._character_creations],
                scene_creations=[SceneCreation(**s) for s in self._scene_creations],
                faults_injected=dict(self._faults),
            )
