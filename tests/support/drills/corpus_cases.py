"""The bad-input corpus (drill 4): every case, and the workspace they are dropped into.

Broken, hostile and merely odd inputs, generated (never committed; ``corpus_files`` makes each
file): files dropped in a watch folder (``watch_cases``: invalid ones first, then valid ones with
odd names) and config or rule files (``config_cases``); the workspace's rules watch the folders
the cases name. ``tests.support.drills.corpus`` runs them through the service;
``bench/drills/corpus.py`` prints the figures and ``tests/integration/test_bad_inputs.py``
asserts each case.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from tests.support.drills.corpus_files import (
    Maker,
    alias_bomb,
    data,
    deep_nesting,
    huge_png,
    locked,
    png,
    sparse,
    symlink,
    truncated,
    video,
)
from viggle_watch.media.synth import make_character_png, make_driving_mp4

RENDERED: Final = "rendered"
CONFIG_ERROR: Final = "config error"
VANISHED: Final = "vanished"
PASSWD: Final = Path("/etc/passwd")


# -- the corpus --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One corpus entry: a file dropped in a watch folder, or a config file.

    ``expect`` is the error code of its ``NAME.error.json``, or ``rendered``, ``vanished`` or
    ``config error``. ``timing``: ``normal``; ``vanish`` (deleted after the first look, before
    it settles); ``late`` (appears after the first look); ``flicker`` (vanishes, then comes
    back with the valid files). ``bug`` names a known defect that keeps
    the case from ending as expected (the tests mark it xfail).
    """

    id: str
    folder: str  # in | videos | jobs | configs
    name: str
    expect: str
    make: Maker
    timing: str = "normal"
    bug: str | None = None
    root_reads_anyway: bool = False
    names_field: str = ""  # config cases: the field the error must name

    @property
    def valid(self) -> bool:
        return self.expect == RENDERED

    @property
    def is_config(self) -> bool:
        return self.folder == "configs"


LONG_STEM = "é" * 120 + "-long"  # 245 bytes of UTF-8


def _manifest(text: str) -> Maker:
    return data(text.encode())


def watch_cases() -> list[Case]:
    """The files dropped in the watch folders, invalid ones first (phase 1), then valid."""
    return [
        Case("zero-byte png", "in", "empty.png", "empty_file", data(b"")),
        Case("zero-byte mp4", "videos", "empty.mp4", "empty_file", data(b"")),
        Case("truncated png", "in", "cut.png", "unreadable", truncated(png(101))),
        Case("truncated mp4", "videos", "cut.mp4", "unreadable", truncated(video(1.0, seed=2))),
        Case("text named .mp4", "videos", "notes.mp4", "not_a_video", data(b"take 3: wave\n")),
        Case("text named .png", "in", "notes.png", "not_an_image", data(b"not a picture\n")),
        Case("png named .mp4", "videos", "still.mp4", "not_a_video", png(102)),
        Case(
            "video 301 s (1 fps)", "videos", "long.mp4", "video_too_long", video(301, 1, (64, 64))
        ),
        Case(
            "video 4112 px wide", "videos", "wide.mp4", "video_resolution", video(1, 2, (4112, 64))
        ),
        Case("video 0.3 s", "videos", "blink.mp4", "video_too_short", video(0.3, 10, (64, 64))),
        Case("image 9000x9000", "in", "huge.png", "image_too_large", huge_png(9000, 9000)),
        Case("image 30000x30000", "in", "bomb.png", "image_too_large", huge_png(30000, 30000)),
        Case("image 32x32", "in", "tiny.png", "image_too_small", png(103, (32, 32))),
        Case(
            "chmod 000", "in", "locked.png", "unreadable", locked(png(104)), root_reads_anyway=True
        ),
        Case(
            "symlink to /etc/passwd",
            "in",
            "passwd.png",
            "symlink",
            symlink(PASSWD),
        ),
        Case("zero-byte, name with newline", "in", "bad\nname.png", "empty_file", data(b"")),
        Case(
            "zero-byte, 250-byte name",
            "in",
            LONG_STEM + "-0.png",
            "empty_file",
            data(b""),
        ),
        Case("vanishes mid-settle", "in", "vanish.png", VANISHED, png(105), timing="vanish"),
        Case("bad, vanishes mid-settle", "videos", "gone.mp4", VANISHED, data(b"x"), "vanish"),
        Case("zero-byte, appears mid-settle", "in", "late.png", "empty_file", data(b""), "late"),
        Case(
            "manifest ../../",
            "jobs",
            "climb.job.yaml",
            "bad_manifest",
            _manifest("character: ../../secret.png\nscene: ok.mp4\n"),
        ),
        Case(
            "manifest absolute path",
            "jobs",
            "absolute.job.yaml",
            "bad_manifest",
            _manifest(f"character: {PASSWD}\nscene: ok.mp4\n"),
        ),
        Case(
            "manifest via symlink",
            "jobs",
            "linked.job.yaml",
            "outside_root",
            _manifest("character: passwd-link.png\nscene: ok.mp4\n"),
        ),
        Case(
            "manifest alias bomb",
            "jobs",
            "lol.job.yaml",
            "bad_manifest",
            _manifest("lolz:\n" + alias_bomb(indent="  ") + "character: *a8\nscene: ok.mp4\n"),
        ),
        Case(
            "manifest typo'd key",
            "jobs",
            "typo.job.yaml",
            "bad_manifest",
            _manifest("charcter: ok.png\nscene: ok.mp4\n"),
        ),
        Case("manifest zero bytes", "jobs", "empty.job.yaml", "bad_manifest", data(b"")),
        Case("manifest 1 GB (sparse)", "jobs", "huge.job.yaml", "bad_manifest", sparse(1 << 30)),
        Case(
            "manifest scene_id leaves the URL path",
            "jobs",
            "escape.job.yaml",
            "bad_manifest",
            _manifest(
                "character: ok.png\nmode: preprocessed\n"
                "scene_id: '../../admin/delete-everything?confirm=yes#'\n"
            ),
        ),
        Case(
            "manifest, missing file",
            "jobs",
            "missing.job.yaml",
            "missing",
            _manifest("character: nobody.png\nscene: ok.mp4\n"),
        ),
        Case(
            # sorted last in its folder: the files settled after it in the same tick would be
            # dropped too (test_bad_inputs shows that on its own)
            "manifest nested 2000 deep",
            "jobs",
            "zz-deep.job.yaml",
            "bad_manifest",
            _manifest(f"character: {deep_nesting()}\nscene: ok.mp4\n"),
        ),
        # phase 2: valid files with odd names; each must render under a safe output name
        Case("unicode name", "in", "Zoë Ñandú-café.png", RENDERED, png(201)),
        Case("emoji name", "in", "💃🏽 dancer 🎉.png", RENDERED, png(202)),
        Case("leading dashes", "in", "-rf --no-preserve-root.png", RENDERED, png(203)),
        Case("newline in name", "in", "two\nlines.png", RENDERED, png(204)),
        Case("249-byte name", "in", LONG_STEM + ".png", RENDERED, png(205)),
        Case("vanishes, comes back", "in", "flicker.png", RENDERED, png(206), "flicker"),
        Case("dash + emoji video", "videos", "-moves ✨.mp4", RENDERED, video(1.0, seed=207)),
    ]


def config_text(body: str) -> str:
    return (
        "api: {base_url: 'http://127.0.0.1:9'}\nstate_dir: state\n"
        + body
        + "rules:\n  - name: dance\n    kind: characters\n    watch: ../../in\n"
        "    output: ../../out\n    scenes:\n      - video: ../../assets/dance.mp4\n"
    )


RULE_FILE = (
    "name: extra\nkind: characters\nwatch: ../../in\noutput: ../../out-extra\n"
    "scenes:\n  - video: ../../assets/dance.mp4\n"
)


def config_cases() -> list[Case]:
    """Config and rule files: each must be refused with a message naming file, line, field."""
    typo = config_text("").replace("    scenes:", "    modle: V4_Preview\n    scenes:")
    return [
        Case(
            "config typo'd key",
            "configs",
            "typo/config.yaml",
            CONFIG_ERROR,
            _manifest(typo),
            names_field="rules.0.modle",
        ),
        Case(
            "config alias bomb",
            "configs",
            "bomb/config.yaml",
            CONFIG_ERROR,
            _manifest(config_text("lolz:\n" + alias_bomb(indent="  ") + "rate_limit: *a8\n")),
            names_field="rate_limit",
        ),
        Case(
            "config metrics off loopback",
            "configs",
            "metrics/config.yaml",
            CONFIG_ERROR,
            _manifest(config_text("metrics: {listen: '0.0.0.0:9108'}\n")),
            names_field="metrics.listen",
        ),
        Case(
            "config nested 2000 deep",
            "configs",
            "deep/config.yaml",
            CONFIG_ERROR,
            _manifest(config_text(f"budget: {deep_nesting()}\n")),
            names_field="budget",
        ),
        Case(
            "rule file typo'd key",
            "configs",
            "rule-typo/rules/extra.yaml",
            CONFIG_ERROR,
            _manifest(RULE_FILE.replace("scenes:", "collison: skip\nscenes:")),
            names_field="collison",
        ),
        Case(
            "rule file alias bomb",
            "configs",
            "rule-bomb/rules/extra.yaml",
            CONFIG_ERROR,
            _manifest(
                "lolz:\n"
                + alias_bomb(indent="  ")
                + RULE_FILE.replace("scenes:\n  - video: ../../assets/dance.mp4\n", "scenes: *a8\n")
            ),
            names_field="scenes",
        ),
    ]


def all_cases() -> list[Case]:
    return watch_cases() + config_cases()


def running_as_root() -> bool:
    return os.geteuid() == 0


# -- the workspace -----------------------------------------------------------------------

WATCH_FOLDERS: Final = ("in", "videos", "jobs")
RULE_OF: Final = {"in": "dance", "videos": "moves", "jobs": "jobs"}
SETTLE_S: Final = 0.5


def corpus_rules() -> list[dict[str, Any]]:
    """A `characters` rule for images, `scenes` for videos and `jobs` for manifests."""
    return [
        {
            "name": "dance",
            "kind": "characters",
            "watch": "in",
            "output": "out",
            "scenes": [{"video": "assets/dance.mp4"}],
        },
        {
            "name": "moves",
            "kind": "scenes",
            "watch": "videos",
            "output": "out-videos",
            "characters": ["assets/hero.png"],
        },
        {"name": "jobs", "kind": "jobs", "watch": "jobs", "output": "out-jobs"},
    ]


def corpus_overrides() -> dict[str, Any]:
    """What the drill's config sets beyond a plain one (``make_config`` overrides)."""
    return {"rules": corpus_rules(), "max_concurrent_renders": 10, "rate_limit": 100}


def prepare(root: Path) -> None:
    """Folders, the rules' own files, the files manifests use, and a secret outside the root."""
    for name in (*WATCH_FOLDERS, "out", "assets", "configs"):
        (root / name).mkdir(parents=True, exist_ok=True)
    if not (root / "assets" / "dance.mp4").exists():
        make_driving_mp4(root / "assets" / "dance.mp4", seconds=1.0)
    make_character_png(root / "assets" / "hero.png", seed=300)
    make_character_png(root.parent / "secret.png", seed=301)  # what ../../ would reach
    make_character_png(root / "jobs" / "ok.png", seed=302)
    make_driving_mp4(root / "jobs" / "ok.mp4", seconds=1.0, seed=303)
    (root / "jobs" / "passwd-link.png").symlink_to(PASSWD)


def write_config(root: Path, base_url: str) -> Path:
    """The drill's config (the same as the tests' ``make_config`` with the corpus rules)."""
    doc: dict[str, Any] = {
        "api": {"base_url": base_url},
        "state_dir": "state",
        "poll_interval": "200ms",
        "settle": f"{SETTLE_S}s",
        "incomplete_grace": "0s",  # the corpus files cut-off inputs at once
        **corpus_overrides(),
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def make_config_cases(root: Path, cases: Iterable[Case]) -> None:
    for case in cases:
        path = root / "configs" / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        case.make(path)
        if path.parent.name == "rules":  # a rule file: its config loads the folder
            config = path.parent.parent / "config.yaml"
            config.write_text(config_text("rules_dir: rules\n"), encoding="utf-8")


def config_path_of(root: Path, case: Case) -> Path:
    path = root / "configs" / case.name
    return path.parent.parent / "config.yaml" if path.parent.name == "rules" else path
