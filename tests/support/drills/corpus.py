"""The bad-input corpus run (drill 4): one pass of every case (``corpus_cases``) through a
hand-stepped service, in the workspace ``corpus_cases.prepare`` made, and what became of each.

Invalid inputs first (not one API call may follow), then valid ones with odd names, then a
plain file dropped after everything (the service must still render it); config cases are
loaded in-process and with ``check-config``. No input may be deleted. ``bench/drills/corpus.py``
prints the figures; ``tests/integration/test_bad_inputs.py`` asserts each case.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tests.support.cli import run_cli
from tests.support.drills.corpus_cases import (
    CONFIG_ERROR,
    RENDERED,
    RULE_OF,
    SETTLE_S,
    VANISHED,
    WATCH_FOLDERS,
    Case,
    all_cases,
    config_path_of,
    make_config_cases,
    running_as_root,
)
from tests.support.stepping import Stepper
from viggle_watch.config import load_config
from viggle_watch.emulator.stats import EmulatorStats
from viggle_watch.errors import ConfigError
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.filing import error_name
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import TERMINAL, State

SKIPPED: Final = "skipped"
NAME_MAX: Final = 255
SENTINEL: Final = "after-the-corpus.png"


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

    def __init__(self, root: Path, stepper: Stepper, stats: Callable[[], EmulatorStats]) -> None:
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
    cli = run_cli("check-config", str(path))
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
    stepper: Stepper,
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
    make_config_cases(root, configs)
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
