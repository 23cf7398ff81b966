"""The two-host drill's claims variant (issue 19 §5): host-a is frozen (SIGSTOP) at a moment
the store shows it holding input claims for files no job has been made from yet, then killed
(SIGKILL) and never restarted. Host-b had been refused those files while host-a looked alive
and forgot them; with a rescan an hour away only its take-over — which lets go of host-a's
input claims and settles those files again — brings them back. Measured: how long after the
kill the claimed-but-unqueued files were queued (target: the lease and a few heartbeats, far
under the rescan interval), files never rendered (0), rendered twice (0), outputs verified
(all), jobs left in ``submitting`` (0). ``python -m bench.drills.twohost --claims`` prints it;
fast in ``tests/e2e/test_two_host_claims.py``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from tests.support.drills.checks import OutputCheck, check_outputs, rendered_twice
from tests.support.drills.multihost import (
    SharedView,
    Stage,
    hosts_dropped,
    no_delays,
    settled,
    sim_stats,
    stage,
    stage_emulator,
    stop_hosts,
    until,
)
from tests.support.drills.twohost_result import HELD_AT_KILL, HOSTS
from viggle_watch.media.synth import make_character_png
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State

VICTIM, SURVIVOR = HOSTS
RESCAN: Final = "1h"  # only the take-over can bring a forgotten file back within the drill
# host-a's claims of files no job has been made from (nor is being made: it is frozen)
UNQUEUED: Final = (
    "SELECT c.path FROM input_claims c WHERE c.host = ? AND NOT EXISTS"
    " (SELECT 1 FROM job_sources s WHERE s.path = c.path) ORDER BY c.path"
)

CLAIMED: Final = "SELECT path FROM input_claims WHERE host = ?"


@dataclass(frozen=True)
class ClaimsSettings:
    inputs: int = 150  # dropped at once: both hosts' intake runs a while
    image_px: int = 1536  # photo-sized images: checking and hashing one takes a moment
    latency_s: float = 1.5
    jitter_s: float = 0.5
    request_delay_s: float = 0.02
    lease_s: float = 10.0  # the least store.lease allows
    concurrency: int = 16
    aim_after: float = 0.3  # the freeze is aimed once this share of the drop has its jobs
    tries: int = 25  # freezes of host-a at most, each undone when the moment was missed
    deadline_s: float = 300.0
    seed: int = 23


FAST_CLAIMS: Final = ClaimsSettings(
    inputs=30, image_px=1024, latency_s=1.0, jitter_s=0.3, deadline_s=90.0
)


@dataclass
class Catch:
    """The freezes of host-a: how many, why each undone one missed, what the last held."""

    tries: int = 0
    missed: Counter[str] = field(default_factory=Counter)
    unqueued: list[str] = field(default_factory=list)  # claimed, no job: seen while frozen

    @property
    def caught(self) -> bool:
        return bool(self.unqueued)


@dataclass
class ClaimsResult:
    settings: ClaimsSettings
    catch: Catch
    orphans: list[str]  # host-a's claimed-but-unqueued files once it was dead
    queued_after: dict[str, float]  # of those: seconds from the kill to their job (store time)
    released: int  # host-b's inputs_released lines about host-a: the files they named
    claimed: int  # every file host-a had claimed when it died (the rest it made jobs from)
    held_at_kill: int  # host-a's unfinished jobs when it died (taken over after the lease)
    ended: bool
    jobs: list[Job]
    never_rendered: list[str]  # dropped files without a done job
    outputs: OutputCheck
    duplicates: int

    def by_state(self) -> Counter[str]:
        return Counter(str(j.state) for j in self.jobs)

    def left_submitting(self) -> int:
        return sum(1 for j in self.jobs if j.state == State.SUBMITTING)

    def slowest(self) -> float | None:
        return max(self.queued_after.values()) if self.queued_after else None

    def lines(self) -> list[str]:
        s, c = self.settings, self.catch
        waited = self.slowest()
        missed = ", ".join(f"{n} {why}" for why, n in sorted(c.missed.items())) or "none"
        took = "not all" if waited is None or len(self.queued_after) < len(self.orphans) else ""
        times = ", ".join(f"{t:.1f}" for t in sorted(self.queued_after.values()))
        return [
            f"two-host claims drill: {s.inputs} inputs of {s.image_px} px dropped at once, "
            f"hosts {' + '.join(HOSTS)}, lease {s.lease_s:g} s, rescan {RESCAN}, seed {s.seed}",
            f"{VICTIM} caught holding claims of files no job was made from: "
            f"{'yes' if c.caught else 'no'}, at freeze {c.tries} of at most {s.tries} "
            f"(missed: {missed}); SIGSTOP, then SIGKILL",
            f"{VICTIM} had claimed {self.claimed} files and made jobs from "
            f"{self.claimed - len(self.orphans)}; it held {self.held_at_kill} unfinished jobs "
            "(queued jobs have no holder)",
            f"claimed but unqueued when it died: {len(self.orphans)} "
            f"({', '.join(Path(p).name for p in self.orphans)}); {SURVIVOR} let go of "
            f"{self.released} of its claims",
            f"queued after the kill: {took or f'{waited:.1f}s'} (each: {times or '-'}; lease "
            f"{s.lease_s:g} s; target well under the rescan interval, {RESCAN})",
            f"end states: {dict(sorted(self.by_state().items()))}; all settled: {self.ended}; "
            f"left in submitting: {self.left_submitting()} (target 0)",
            f"files never rendered: {len(self.never_rendered)} (target 0); rendered twice or "
            f"more: {self.duplicates} (target 0)",
            self.outputs.line(),
            *(f"  never rendered: {name}" for name in self.never_rendered[:10]),
        ]


def run_claims(root: Path, db_url: str, settings: ClaimsSettings) -> ClaimsResult:
    """The drill in ``root``, on the (fresh, empty) database at ``db_url``."""
    s = settings
    where = _stage(root, s)
    with stage_emulator(where, s) as api:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        orphans: list[str] = []
        queued: dict[str, float] = {}
        held = claimed = 0
        try:
            with hosts_dropped(
                where,
                procs,
                HOSTS,
                api_url=api,
                db_url=db_url,
                lease_s=s.lease_s,
                max_concurrent_renders=s.concurrency,
                poll_interval="0.5s",
                polling_interval="0.5s",
                rescan_interval=RESCAN,
            ) as (view, dropped):
                paths = [str(where.watch / p.name) for p in where.staged]
                catch = _freeze(view, procs[VICTIM], s, paths)
                if catch.caught:
                    killed = time.time()
                    procs[VICTIM].kill()  # never comes back
                    procs[VICTIM].wait(timeout=30)
                    until(lambda: not _connected(view, VICTIM), time.monotonic() + 30)
                    held = _unfinished(view, VICTIM)
                    claimed = len(_rows(view, CLAIMED, VICTIM))
                    orphans = _rows(view, UNQUEUED, VICTIM)  # an open transaction rolled back
                    until(lambda: _all_queued(view, orphans), dropped + s.deadline_s)
                    queued = {p: at - killed for p, at in _queued_at(view, orphans).items()}
                ended = until(lambda: settled(view, s.inputs), dropped + s.deadline_s)
                jobs = view.store.latest(limit=1_000_000)
        finally:
            stop_hosts(procs)
        no_delays(api)
        stats = sim_stats(api)
        outputs = check_outputs(jobs, [where.out], api)
    done = {j.spec.character.path for j in jobs if j.state == State.DONE}
    return ClaimsResult(
        settings=s,
        catch=catch,
        orphans=orphans,
        queued_after=queued,
        released=_released(where.logs / f"{SURVIVOR}.log"),
        claimed=claimed,
        held_at_kill=held,
        ended=ended,
        jobs=jobs,
        never_rendered=sorted(Path(p).name for p in paths if p not in done),
        outputs=outputs,
        duplicates=rendered_twice(stats),
    )


def _stage(root: Path, s: ClaimsSettings) -> Stage:
    """The drill's folders, its images ``image_px`` square (distinct seeds, distinct bytes)."""
    where = stage(root, "claims", 0, s.seed)
    staging = root / "staging"
    staging.mkdir(exist_ok=True)
    staged = [
        make_character_png(
            staging / f"hero{i:04d}.png", size=(s.image_px, s.image_px), seed=s.seed * 100_000 + i
        )
        for i in range(s.inputs)
    ]
    return replace(where, staged=staged)


def _freeze(
    view: SharedView, victim: subprocess.Popen[bytes], s: ClaimsSettings, paths: list[str]
) -> Catch:
    """Freeze host-a (SIGSTOP) as soon as the store shows it holding a claim of a file no job
    has been made from, and no paid request on its way (one would be made uncertain, which is
    the plain drill's subject, not this one's). Frozen, it cannot go on: what the store shows
    a moment later is what it holds. A missed moment is undone (SIGCONT) and tried again.
    Aimed once ``aim_after`` of the drop has its jobs: mid-intake, host-a holding work."""
    catch, looked = Catch(), 0.0
    until(lambda: len(_queued_at(view, paths)) >= s.aim_after * len(paths), time.monotonic() + 60)
    while catch.tries < s.tries:
        if not _rows(view, UNQUEUED, VICTIM):
            if time.monotonic() - looked > 0.2:  # every file has its job: nothing to catch
                if _all_queued(view, paths):
                    break
                looked = time.monotonic()
            time.sleep(0.001)
            continue
        os.kill(victim.pid, signal.SIGSTOP)
        catch.tries += 1
        time.sleep(0.05)  # a statement under way ends
        if view.held()[(VICTIM, str(State.SUBMITTING))]:
            catch.missed["with a paid request on its way"] += 1
        else:
            catch.unqueued = _rows(view, UNQUEUED, VICTIM)
            if catch.unqueued:
                return catch
            catch.missed["queued before the freeze"] += 1
        os.kill(victim.pid, signal.SIGCONT)
        time.sleep(0.02)
    return catch


def _rows(view: SharedView, sql: str, host: str) -> list[str]:
    with view.db.read() as conn:
        return [str(r[0]) for r in conn.execute(sql, (host,)).fetchall()]


def _connected(view: SharedView, host: str) -> bool:
    """Whether the host still has a connection to the server (a killed one's goes at once)."""
    with view.db.read() as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?",
            (f"viggle-watch@{host}",),
        ).fetchone()
    return int(row[0]) > 0


def _unfinished(view: SharedView, host: str) -> int:
    held = view.held().items()
    return sum(n for (owner, st), n in held if owner == host and State(st) in HELD_AT_KILL)


def _queued_at(view: SharedView, paths: list[str]) -> dict[str, float]:
    """When the first job made from each of ``paths`` was created (store time)."""
    if not paths:
        return {}
    with view.db.read() as conn:
        rows = conn.execute(
            "SELECT s.path, MIN(j.created_at) FROM job_sources s JOIN jobs j ON j.id = s.job_id"
            " WHERE s.path = ANY(?) GROUP BY s.path",
            (paths,),
        ).fetchall()
    return {str(r[0]): float(r[1]) for r in rows}


def _all_queued(view: SharedView, paths: list[str]) -> bool:
    return len(_queued_at(view, paths)) == len(paths)


def _released(log: Path) -> int:
    """How many of host-a's claims host-b's log says it let go of (``inputs_released``)."""
    count = 0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"inputs_released"' not in line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("from_host") == VICTIM:
            count += int(doc.get("count", 0))
    return count
