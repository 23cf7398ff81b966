"""The I/O a decision needs, in one place for the intake tick and ``plan``: a file checked for
the role ``decide`` gives it, a manifest or job folder read into a request, the files a manifest
names looked at, and a scene video's length (probed once per path, size and mtime)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from viggle_watch.config import JobsRule, Rule
from viggle_watch.intake.checks import Problem, VideoFacts, check_image, check_video
from viggle_watch.intake.decide import (
    Decision,
    Named,
    decide_file,
    decide_manifest,
    named_files,
    role_of,
    video_role,
)
from viggle_watch.intake.spec import read_text
from viggle_watch.rules.manifest import FOLDER_MANIFEST, ManifestError, folder_request
from viggle_watch.rules.manifest import manifest_request as read_manifest
from viggle_watch.rules.pairing import RenderRequest, is_manifest
from viggle_watch.store.remembered import Remembered, identity_of
from viggle_watch.watch.filters import is_ignored

NOT_REGULAR = "is not a regular file (a link, a pipe or a device); only regular files are read"


Verdict = VideoFacts | Problem | None  # a video's facts, or why a file cannot be sent


class Facts:
    """Gathers what ``decide`` needs and asks it; measures each identity of a file once (in
    this process, and across processes through ``remembered``)."""

    def __init__(self, remembered: Remembered | None = None) -> None:
        self._remembered = remembered or Remembered.nothing()
        self._here: dict[tuple[str, str, str], Verdict] = {}  # a scene video, once per job

    def decide(self, rule: Rule, path: Path, waiting: Mapping[str, Path]) -> Decision:
        """What the settled ``path`` becomes under ``rule`` (see ``intake.decide``)."""
        if not isinstance(rule, JobsRule):
            return decide_file(rule, path, self.problem(rule, path), waiting)
        found = self.request_of(rule, path)
        if found is None:
            return decide_file(rule, path, None, waiting)  # loose files belong to manifests
        named = [] if isinstance(found, ManifestError) else self.named(found)
        return decide_manifest(found, named)

    def problem(self, rule: Rule, path: Path, mode: str | None = None) -> Problem | None:
        """Why ``path`` cannot be sent in the role ``rule`` (or a manifest's ``mode``) gives
        it, or None."""
        role = role_of(rule, path, mode)
        if role is None:
            return None
        facts = self.verdict(path, role)
        return facts if isinstance(facts, Problem) else None

    def video(self, path: Path, role: str) -> VideoFacts | Problem:
        """A video's facts, or why it cannot be sent in ``role``."""
        facts = self.verdict(path, role)
        assert facts is not None
        return facts

    def verdict(self, path: Path, role: str) -> Verdict:
        """The check of ``path`` in ``role``, remembered by the file's identity."""
        try:
            identity = identity_of(path.stat())
        except OSError:
            return _check(path, role)  # says why it cannot be read
        key = (str(path), role, identity)
        if key in self._here:
            return self._here[key]
        found = self._remembered.get(path, role, identity)
        if isinstance(found, dict):
            verdict = _verdict_of(found)
        else:
            verdict = _check(path, role)
            if not (isinstance(verdict, Problem) and verdict.code == "unreadable"):
                self._remembered.put(path, role, identity, _document(verdict))
        if len(self._here) > 4096:
            self._here.clear()  # a bound: only the scene videos of a tick need to stay
        self._here[key] = verdict
        return verdict

    def scene_note(self, request: RenderRequest) -> str:
        """What the job's history should say about its video's length (or nothing)."""
        video = request.scene.video
        if video is None:
            return ""
        facts = self.video(video, video_role(request.rule, request.overrides.mode))
        return facts.length_note() if isinstance(facts, VideoFacts) else ""

    def scene_seconds(self, request: RenderRequest) -> float | None:
        """The request's scene video length (None without one); ``ValueError`` saying why
        when the video cannot be sent."""
        video = request.scene.video
        if video is None:
            return None
        facts = self.video(video, video_role(request.rule, request.overrides.mode))
        if isinstance(facts, Problem):
            raise ValueError(f"{video}: {facts.reason}")
        return facts.duration_s

    @staticmethod
    def request_of(rule: JobsRule, path: Path) -> RenderRequest | ManifestError | None:
        """A job folder or manifest read into a request; None for anything else."""
        if path.is_dir():
            names = sorted(p.name for p in path.iterdir() if not is_ignored(p.name))
            manifest = path / FOLDER_MANIFEST
            text = read_text(manifest)
            if text is None and (manifest.is_symlink() or manifest.exists()):
                return ManifestError(f"{FOLDER_MANIFEST} {NOT_REGULAR}")
            return folder_request(rule, path, names, text)
        if is_manifest(path):
            text = read_text(path)
            return (
                ManifestError(f"the manifest {NOT_REGULAR}")
                if text is None
                else read_manifest(rule, path, text)
            )
        return None

    def named(self, request: RenderRequest) -> list[Named]:
        """Every file the request names: a real file inside the watch folder, and sendable?"""
        root = request.rule.watch.resolve()
        looked: list[Named] = []
        for file in named_files(request):
            real = file.resolve()
            inside = real == root or root in real.parents
            if file.is_symlink() or not inside or not real.is_file():
                looked.append(Named(file, file.is_symlink(), inside, real.is_file()))
                break  # the first such file is the refusal; nothing after it is read
            problem = self.problem(request.rule, file, request.overrides.mode)
            looked.append(Named(file, problem=problem))
            if problem is not None:
                break
        return looked


def _check(path: Path, role: str) -> Verdict:
    if role in ("image", "character"):
        return check_image(path, allow_webp=role == "character")
    return check_video(path, role=role)


def _document(verdict: Verdict) -> dict[str, object]:
    if isinstance(verdict, Problem):
        return {"problem": asdict(verdict)}
    return {"video": None if verdict is None else asdict(verdict)}


def _verdict_of(doc: dict[str, object]) -> Verdict:
    problem, video = doc.get("problem"), doc.get("video")
    if isinstance(problem, dict):
        return Problem(**problem)
    return VideoFacts(**video) if isinstance(video, dict) else None
