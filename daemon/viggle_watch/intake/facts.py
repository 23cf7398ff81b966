"""The I/O a decision needs, in one place for the intake tick and ``plan``: a file checked for
the role ``decide`` gives it, a manifest or job folder read into a request, the files a manifest
names looked at, and a scene video's length (probed once per path, size and mtime)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from viggle_watch.config import JobsRule, Rule
from viggle_watch.config.kinds import fixed_inputs
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
from viggle_watch.watch.filters import is_ignored

NOT_REGULAR = "is not a regular file (a link, a pipe or a device); only regular files are read"


class Facts:
    """Gathers what ``decide`` needs and asks it; remembers scene videos' measurements."""

    def __init__(self) -> None:
        self._videos: dict[tuple[str, str, int, int], VideoFacts | Problem] = {}

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
        if role in ("image", "character"):
            return check_image(path, allow_webp=role == "character")
        if role is None:
            return None
        facts = self.video(path, role)
        return facts if isinstance(facts, Problem) else None

    def video(self, path: Path, role: str) -> VideoFacts | Problem:
        """A video measured once per (path, role, size, mtime), not once per job."""
        st = path.stat()
        key = (str(path), role, st.st_size, st.st_mtime_ns)
        if key not in self._videos:
            self._videos[key] = check_video(path, role=role)
        return self._videos[key]

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


def missing_assets(rule: Rule) -> list[Path]:
    """The files the rule itself names (scene videos, fixed characters) that are not there:
    the rule's trouble, not its inputs' (they wait, and are taken once the files are back)."""
    return [path for path in fixed_inputs(rule) if not path.is_file()]
