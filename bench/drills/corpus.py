"""Drill 4, the bad-input corpus: every case must end clearly, cost nothing, delete nothing.

Run: python bench/drills/corpus.py [--keep DIR]

Generates (never commits) a corpus of broken, hostile and merely odd inputs in a temporary
workspace, runs them through the service against the in-process emulator, and prints one row
per case and the drill's figures:

- every invalid input ends with ``failed/NAME.error.json`` holding a ``code`` and a ``reason``
  a person can read, and every bad config with a ``ConfigError`` naming the file, the line and
  the field (``viggle-watch check-config`` exits 2 without a traceback);
- zero API calls while only invalid inputs were there (the emulator's ``calls``);
- the service still runs afterwards: a valid file dropped after the corpus renders;
- no input is deleted: every file (by inode) is still somewhere under its watch folder, except
  the ones the drill itself removed mid-settle.

Valid inputs with odd names (unicode, emoji, a leading dash, a newline, ~250 bytes) must render
under a safe output name. The service's ticks are stepped by hand with a fake clock (no
scheduler, no observer), so the whole drill takes a few seconds. ``tests/integration/
test_bad_inputs.py`` runs the same corpus through this module and asserts each case.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

import yaml

from viggle_watch.apikey import ApiKey
from viggle_watch.app.service import Service, build_service
from viggle_watch.clock import FakeClock
from viggle_watch.config import load_config
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.errors import ConfigError
from viggle_watch.logs import configure_logging
from viggle_watch.media.synth import make_character_png, make_driving_mp4, make_video
from viggle_watch.outputs.filing import error_name
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import TERMINAL, State

RENDERED: Final = "rendered"
CONFIG_ERROR: Final = "config error"
VANISHED: Final = "vanished"
SKIPPED: Final = "skipped"
WATCH_FOLDERS: Final = ("in", "videos", "jobs")
RULE_OF: Final = {"in": "dance", "videos": "moves", "jobs": "jobs"}
SETTLE_S: Final = 0.5
DRILL_KEY: Final = "sk-drill-corpus-0123456789"
PASSWD: Final = Path("/etc/passwd")
NAME_MAX: Final = 255
SENTINEL: Final = "after-the-corpus.png"

Maker = Callable[[Path], None]


# -- making files ------------------------------------------------------------------------


def png(seed: int, size: tuple[int, int] = (256, 256)) -> Maker:
    def make(path: Path) -> None:
        make_character_png(path, size=size, seed=seed)

    return make


def video(
    seconds: float, fps: int = 12, size: tuple[int, int] = (128, 128), seed: int = 0
) -> Maker:
    def make(path: Path) -> None:
        make_video(path, seconds=seconds, fps=fps, size=size, seed=seed)

    return make


def data(content: bytes) -> Maker:
    def make(path: Path) -> None:
        path.write_bytes(content)

    return make


def truncated(inner: Maker) -> Maker:
    """A real file cut in half (a copy that broke off)."""

    def make(path: Path) -> None:
        inner(path)
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])

    return make


def symlink(target: Path) -> Maker:
    def make(path: Path) -> None:
        path.symlink_to(target)

    return make


def locked(inner: Maker) -> Maker:
    """A file nobody may read (chmod 000); root reads it anyway."""

    def make(path: Path) -> None:
        inner(path)
        path.chmod(0)

    return make


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def huge_png(width: int, height: int) -> Maker:
    """A genuine 1-bit black PNG of ``width`` x ``height``: tiny on disk, huge in pixels."""

    def make(path: Path) -> None:
        header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
        squeeze = zlib.compressobj(9)
        row = bytes(1 + (width + 7) // 8)
        body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b"")
        )

    return make


def alias_bomb(levels: int = 9, indent: str = "") -> str:
    """A billion-laughs YAML block: 9 anchors, each a list of nine aliases of the one before."""
    lines = [f'{indent}a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep_nesting(depth: int = 2000) -> str:
    """``[[[[…]]]]``: 4 KB of YAML nested deeper than Python's recursion limit."""
    return "[" * depth + "]" * depth


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
BUG_SYMLINK = (
    "a symlink dropped in the watch folder is skipped silently (watch/scanner.py:81 "
    "scan_entries keeps regular files only; intake.py:106 Intake.tick skips links): no "
    "failed/NAME.error.json says why it was not taken"
)
BUG_LONG_NAME = (
    "a rejected file whose name is over 239 bytes is moved to failed/, but NAME.error.json "
    "(+11 bytes, +16 for its .part) exceeds NAME_MAX: OSError ENAMETOOLONG in "
    "outputs/archive.py:84 reject_input, swallowed by intake.py:209 _reject as 'input_not_moved'"
)
BUG_DEEP_MANIFEST = (
    "a deeply nested manifest raises RecursionError out of rules/manifest.py:48 _load "
    "(only yaml.YAMLError is caught) and out of Intake.tick: no error sidecar, and the "
    "other files settled in the same tick are dropped"
)
BUG_DEEP_CONFIG = (
    "a deeply nested config raises RecursionError out of config.py:108 _read_yaml (only "
    "yaml.YAMLError is caught): `check-config` prints a traceback and exits 1, not 2"
)


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


def _config_text(body: str) -> str:
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
    typo = _config_text("").replace("    scenes:", "    modle: V4_Preview\n    scenes:")
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
            _manifest(_config_text("lolz:\n" + alias_bomb(indent="  ") + "rate_limit: *a8\n")),
            names_field="rate_limit",
        ),
        Case(
            "config nested 2000 deep",
            "configs",
            "deep/config.yaml",
            CONFIG_ERROR,
            _manifest(_config_text(f"budget: {deep_nesting()}\n")),
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
        **corpus_overrides(),
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _make_config_cases(root: Path, cases: Iterable[Case]) -> None:
    for case in cases:
        path = root / "configs" / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        case.make(path)
        if path.parent.name == "rules":  # a rule file: its config loads the folder
            config = path.parent.parent / "config.yaml"
            config.write_text(_config_text("rules_dir: rules\n"), encoding="utf-8")


def config_path_of(root: Path, case: Case) -> Path:
    path = root / "configs" / case.name
    return path.parent.parent / "config.yaml" if path.parent.name == "rules" else path


# -- running it --------------------------------------------------------------------------


class Stepped(Protocol):
    """A service whose ticks are called by hand at fake times (``tests/conftest.Stepper``)."""

    @property
    def service(self) -> Service: ...

    @property
    def clock(self) -> FakeClock: ...

    def step(self, seconds: float = 1.0) -> None: ...


class HandStepper:
    """The same as ``tests/conftest.Stepper``, for running the drill outside pytest."""

    def __init__(self, service: Service, clock: FakeClock) -> None:
        self.service, self.clock = service, clock

    def step(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.service.render_once(self.clock.time())


def hand_stepper(config: Path, key: str = DRILL_KEY) -> HandStepper:
    clock = FakeClock(start=time.time())
    return HandStepper(build_service(load_config(config), ApiKey(key), clock=clock), clock)


@dataclass
class Outcome:
    """How one case ended."""

    case: Case
    result: str  # an error code, rendered, vanished, config error, or what went wrong
    clear: bool = False  # a code and a human reason / file:line: field and no traceback
    detail: str = ""  # the reason, the output name or the config message
    kept: bool = True  # the input is still somewhere under its watch folder
    where: str = ""  # where the input is now
    error_doc: dict[str, Any] = field(default_factory=dict)
    output: str = ""

    @property
    def as_expected(self) -> bool:
        if self.result == SKIPPED:
            return True
        return self.result == self.case.expect and (self.clear or self.case.expect == VANISHED)


@dataclass
class Report:
    outcomes: list[Outcome]
    calls_after_invalid: dict[str, int]
    submissions: int
    foreign_submissions: int  # submissions whose image or video is not a valid input's
    sentinel_rendered: bool
    tick_errors: list[str]
    inputs: int
    inputs_deleted: list[str]
    seconds: float

    def by_id(self) -> dict[str, Outcome]:
        return {o.case.id: o for o in self.outcomes}


class _Run:
    """One pass of the corpus through a hand-stepped service."""

    def __init__(self, root: Path, stepper: Stepped, stats: Callable[[], EmulatorStats]) -> None:
        self.root, self.st, self.stats = root, stepper, stats
        self.s = stepper.service
        self.tick_errors: list[str] = []
        self.inodes: dict[str, tuple[int, int]] = {}  # id → (dev, ino) of each input

    def guard(self, name: str, tick: Callable[[], object]) -> None:
        try:
            tick()
        except Exception as exc:  # the scheduler logs and carries on; the drill counts it
            self.tick_errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")

    def make(self, case: Case) -> None:
        path = self.root / case.folder / case.name
        case.make(path)
        st = path.lstat()
        self.inodes[case.id] = (st.st_dev, st.st_ino)

    def look(self) -> None:
        """A scan and a settle tick at the current time (the first sample of each file)."""
        now = self.st.clock.time()
        self.guard("rescan", lambda: self.s.intake.rescan(now))
        self.guard("settle", lambda: self.s.intake.tick(now))

    def settle(self) -> None:
        self.st.clock.advance(SETTLE_S + 1)
        now = self.st.clock.time()
        self.guard("settle", lambda: self.s.intake.tick(now))

    def ingest(self) -> None:
        self.look()
        self.settle()

    def work_until(self, done: Callable[[], bool], timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.guard("step", lambda: self.st.step(0.5))
            if done():
                return True
            time.sleep(0.03)
        return False

    def jobs(self) -> list[Job]:
        return self.s.store.latest(limit=10_000)


def inputs_under(root: Path) -> dict[tuple[int, int], Path]:
    """Every file and symlink under the watch folders (not following links), by inode."""
    found: dict[tuple[int, int], Path] = {}
    for folder in WATCH_FOLDERS:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            for name in filenames + dirnames:
                path = Path(dirpath) / name
                st = path.lstat()
                found[(st.st_dev, st.st_ino)] = path
    return found


def _safe_output_name(name: str) -> bool:
    return (
        len(name.encode()) <= NAME_MAX
        and not re.search(r"[\x00-\x1f/\\]", name)
        and not name.startswith(("-", "."))
    )


def _clear_reason(doc: dict[str, Any]) -> bool:
    reason, code = doc.get("reason"), doc.get("code")
    return (
        isinstance(code, str)
        and bool(code)
        and isinstance(reason, str)
        and len(reason) >= 15
        and "Traceback" not in reason
    )


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. a name longer than NAME_MAX
        return False


def _outcome(run: _Run, case: Case, where: Path | None, jobs: list[Job]) -> Outcome:
    out = Outcome(case, "nothing", kept=where is not None, where=str(where or ""))
    original = run.root / case.folder / case.name
    sidecar = (where or original).parent / error_name((where or original).name)
    if _exists(sidecar):
        doc = json.loads(sidecar.read_text(encoding="utf-8"))
        out.error_doc = doc
        out.result = str(doc.get("code"))
        out.clear = _clear_reason(doc) and doc.get("rule") == RULE_OF[case.folder]
        out.detail = str(doc.get("reason"))
        return out
    mine = [j for j in jobs if Path(j.source_path) == original]
    if mine:
        job = mine[0]
        out.result = RENDERED if job.state == State.DONE else f"job {job.state}"
        out.output = Path(job.output_path or "").name
        out.clear = job.state == State.DONE and _safe_output_name(out.output)
        out.detail = out.output if job.state == State.DONE else str(job.error_message)
        return out
    if case.timing == "vanish" and not original.exists():
        out.result, out.clear, out.detail = VANISHED, True, "no job, no error, no call"
        return out
    if where is not None and where.parent == original.parent:
        out.result, out.detail = "left in place", "no job and no error sidecar"
    elif where is not None and where.parent.name == "failed":
        out.result, out.detail = "failed/, no sidecar", f"moved to {where}, no NAME.error.json"
    return out


def _config_outcome(root: Path, case: Case) -> Outcome:
    """Load it in-process (a ConfigError naming file:line: field) and with the CLI."""
    path = config_path_of(root, case).resolve()
    named = (root / "configs" / case.name).resolve()
    out = Outcome(case, "loaded")
    try:
        load_config(path)
    except ConfigError as exc:
        out.result, out.detail = CONFIG_ERROR, str(exc)
    except Exception as exc:
        out.result, out.detail = f"crashed: {type(exc).__name__}", str(exc)[:200]
        return out
    where = re.search(rf"{re.escape(named.name)}:\d+: \S*{re.escape(case.names_field)}", out.detail)
    if where is None and "nested too deeply" in out.detail:  # no line to name: the whole file
        where = re.search(re.escape(named.name), out.detail)
    cli = subprocess.run(
        [sys.executable, "-m", "viggle_watch", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    tidy = cli.returncode == 2 and "Traceback" not in cli.stderr and str(named) in cli.stderr
    out.clear = out.result == CONFIG_ERROR and where is not None and tidy
    if not tidy:
        out.detail += f" | check-config exit {cli.returncode}, {len(cli.stderr)} bytes of stderr"
    return out


def _phase_invalid(run: _Run, cases: Sequence[Case]) -> None:
    """Only invalid inputs (and files that vanish mid-settle): not one API call may follow."""
    first = [c for c in cases if not c.valid and c.timing != "late"]
    first += [c for c in cases if c.timing == "flicker"]
    for case in first:
        run.make(case)
    run.look()
    for case in cases:
        if case.timing in ("vanish", "flicker"):
            (run.root / case.folder / case.name).unlink()
            run.inodes.pop(case.id)
        elif case.timing == "late":
            run.make(case)
    run.settle()
    run.ingest()  # the late ones
    for _ in range(6):
        run.guard("step", lambda: run.st.step(1.0))


def _phase_valid(run: _Run, cases: Sequence[Case]) -> None:
    for case in cases:
        if case.valid:
            run.make(case)
    run.ingest()
    run.work_until(lambda: all(j.state in TERMINAL for j in run.jobs()))


def _sentinel(run: _Run) -> bool:
    """A plain valid file dropped after the whole corpus: the service must still render it."""
    path = run.root / "in" / SENTINEL
    make_character_png(path, seed=999)
    st = path.lstat()
    run.inodes["sentinel"] = (st.st_dev, st.st_ino)
    run.ingest()

    def rendered() -> bool:
        return any(Path(j.source_path) == path and j.state == State.DONE for j in run.jobs())

    return run.work_until(rendered)


def _foreign(run: _Run, stats: EmulatorStats, valid: Sequence[Case]) -> int:
    """Submissions whose inputs are not valid corpus files (or the rules' own files)."""
    names = {c.name for c in valid} | {SENTINEL}
    allowed: set[str | None] = set()
    for job in run.jobs():
        if Path(job.source_path).name in names:
            allowed.add(job.spec.character.sha256)
            allowed.add(job.spec.scene.sha256 if job.spec.scene else None)
    return sum(
        1
        for s in stats["render_submissions"]
        if s["ref_image_sha256"] not in allowed or s["driving_video_sha256"] not in allowed
    )


def run_corpus(
    root: Path,
    stepper: Stepped,
    stats: Callable[[], EmulatorStats],
    *,
    cases: Sequence[Case] | None = None,
) -> Report:
    """Drop the corpus into ``root`` (made by :func:`prepare`), step the service through it,
    then check what became of every case."""
    started = time.monotonic()
    wanted = list(all_cases() if cases is None else cases)
    chosen = [c for c in wanted if not (c.root_reads_anyway and running_as_root())]
    watch = [c for c in chosen if not c.is_config]
    run = _Run(root, stepper, stats)
    for name in ("passwd-link", "ok.png", "ok.mp4"):
        path = next((root / "jobs").glob(f"{name}*"))
        st = path.lstat()
        run.inodes[f"helper {name}"] = (st.st_dev, st.st_ino)
    _phase_invalid(run, watch)
    calls_after_invalid = dict(stats()["calls"])
    _phase_valid(run, watch)
    sentinel = _sentinel(run)
    found = inputs_under(root)
    jobs = run.jobs()
    outcomes = [_outcome(run, c, found.get(run.inodes.get(c.id, (-1, -1))), jobs) for c in watch]
    configs = [c for c in chosen if c.is_config]
    _make_config_cases(root, configs)
    with ThreadPoolExecutor(max_workers=len(configs) or 1) as pool:
        outcomes += list(pool.map(lambda c: _config_outcome(root, c), configs))
    ran = {c.id for c in chosen}
    why = "running as root: chmod 000 does not stop root from reading"
    outcomes += [Outcome(c, SKIPPED, detail=why) for c in wanted if c.id not in ran]
    final = stats()
    return Report(
        outcomes=outcomes,
        calls_after_invalid=calls_after_invalid,
        submissions=len(final["render_submissions"]),
        foreign_submissions=_foreign(run, final, [c for c in watch if c.valid]),
        sentinel_rendered=sentinel,
        tick_errors=run.tick_errors,
        inputs=len(run.inodes),
        inputs_deleted=sorted(i for i, ino in run.inodes.items() if ino not in found),
        seconds=time.monotonic() - started,
    )


# -- printing ----------------------------------------------------------------------------


def _short(text: str, width: int) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(report: Report) -> str:
    lines = [f"{'case':32} {'expected':16} {'outcome':16} ok  detail"]
    for o in report.outcomes:
        mark = "yes" if o.as_expected else ("BUG" if o.case.bug else "NO ")
        lines.append(
            f"{_short(o.case.id, 32):32} {o.case.expect:16} {_short(o.result, 16):16} {mark} "
            f"{_short(o.detail, 70)}"
        )
    return "\n".join(lines)


def figures(report: Report) -> dict[str, object]:
    outcomes = [o for o in report.outcomes if o.result != SKIPPED]
    invalid = [o for o in outcomes if not o.case.valid and not o.case.is_config]
    errors = [o for o in invalid if o.case.expect != VANISHED]
    return {
        "cases": len(report.outcomes),
        "cases run": len(outcomes),
        "ended as expected": sum(o.as_expected for o in outcomes),
        "clear error sidecars": f"{sum(o.clear for o in errors)} of {len(errors)}",
        "clear config errors": (
            f"{sum(o.clear for o in outcomes if o.case.is_config)} of "
            f"{sum(o.case.is_config for o in outcomes)}"
        ),
        "rendered under a safe name": (
            f"{sum(o.clear for o in outcomes if o.case.valid)} of "
            f"{sum(o.case.valid for o in outcomes)}"
        ),
        "zero API calls for invalid inputs": "yes" if not report.calls_after_invalid else "no",
        "renders paid": report.submissions,
        "renders of anything but valid inputs": report.foreign_submissions,
        "service still running (a file dropped after the corpus renders)": (
            "yes" if report.sentinel_rendered else "no"
        ),
        "ticks that raised": len(report.tick_errors),
        "inputs": report.inputs,
        "inputs deleted": len(report.inputs_deleted),
        "seconds": round(report.seconds, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args(argv)
    configure_logging("json", stream=io.StringIO())  # the service's own lines are not the figures
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        root = base / "ws"
        prepare(root)
        with serve(EmulatorConfig(latency_s=0.2)) as emu:
            stepper = hand_stepper(write_config(root, emu.url))
            try:
                report = run_corpus(root, stepper, emu.emulator.stats)
            finally:
                stepper.service.db.close()
    print(table(report))
    print()
    for name, value in figures(report).items():
        print(f"{name}: {value}")
    for error in report.tick_errors:
        print(f"  tick raised: {error}")
    for bug in sorted({o.case.bug for o in report.outcomes if o.case.bug and not o.as_expected}):
        print(f"known bug: {bug}")
    clean = all(o.as_expected for o in report.outcomes) and not report.inputs_deleted
    return 0 if clean and not report.calls_after_invalid and report.sentinel_rendered else 1


if __name__ == "__main__":
    sys.exit(main())
