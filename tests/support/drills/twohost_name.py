"""The two-host drill's same-name variant (issue 19 §3): while two hosts render, a third
``viggle-watch run`` is started under host-a's ``store.host`` (its own state dir, as on
another machine) three times: while host-a lives (refused, exit 75); after a blip dropped
host-a's session lock on the name (still refused: the heartbeat row names a live process);
and once host-a has been stopped (SIGSTOP) past the lease with its lock dropped (it takes the
name). Woken with SIGCONT, the old host-a finds its name taken and exits 75. Nothing may be
rendered twice, no output may differ from its sidecar, no job may stay in ``submitting``.
``python -m bench.drills.twohost --same-name`` prints it; fast in
``tests/e2e/test_two_host_same_name.py``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.support.drills.checks import OutputCheck, check_outputs, rendered_twice
from tests.support.drills.multihost import (
    SharedView,
    hosts_dropped,
    no_delays,
    settled,
    sim_stats,
    stage,
    stage_emulator,
    stop_hosts,
    until,
)
from tests.support.drills.service import start_service
from tests.support.drills.twohost_result import HOSTS
from tests.support.drills.workspace import write_config
from viggle_watch.store.jobs import Job
from viggle_watch.store.postgres import HOST_LOCK
from viggle_watch.store.states import State

VICTIM: Final = HOSTS[0]
AGAIN: Final = f"{VICTIM}-again"  # the folder of the second process under the same name


@dataclass(frozen=True)
class NameSettings:
    inputs: int = 60
    latency_s: float = 1.5
    jitter_s: float = 0.5
    request_delay_s: float = 0.05
    lease_s: float = 10.0  # the least store.lease allows
    concurrency: int = 16
    start_after: int = 10  # jobs done before the second host-a is started
    deadline_s: float = 300.0
    seed: int = 23


FAST_NAME: Final = NameSettings(inputs=24, start_after=4)


@dataclass
class Attempt:
    """One start of a second process under host-a's name."""

    code: int | None  # its exit code (None: it runs, holding the name)
    said: str  # its last error line, or its last event


@dataclass
class NameResult:
    settings: NameSettings
    live: Attempt  # while host-a runs, its lock held
    blip: Attempt  # after its lock was dropped
    taken: Attempt  # after host-a was stopped past the lease
    stopped_s: float
    done_at_take: int  # jobs done when the new host-a took the name (the rest: in flight)
    woken_code: int | None  # the old host-a's exit code once woken
    woken_after_s: float  # from SIGCONT to its exit
    lost_logged: bool  # it logged host_name_lost
    conflict: str  # what `status` shows on host-a's row
    ended: bool
    jobs: list[Job]
    outputs: OutputCheck
    duplicates: int

    def by_state(self) -> Counter[str]:
        return Counter(str(j.state) for j in self.jobs)

    def left_submitting(self) -> int:
        return sum(1 for j in self.jobs if j.state == State.SUBMITTING)

    def lines(self) -> list[str]:
        s = self.settings
        return [
            f"two-host same-name drill: {s.inputs} inputs, hosts {' + '.join(HOSTS)}, lease "
            f"{s.lease_s:g} s, seed {s.seed}",
            f"a second {VICTIM} while {VICTIM} runs: exit {self.live.code} (target 75): "
            f"{self.live.said}",
            f"again after a blip dropped {VICTIM}'s lock on the name: exit {self.blip.code} "
            f"(target 75): {self.blip.said}",
            f"{VICTIM} stopped {self.stopped_s:.1f} s (lease {s.lease_s:g} s), its lock dropped: "
            f"a new {VICTIM} started ({'running' if self.taken.code is None else 'exit '}"
            f"{'' if self.taken.code is None else self.taken.code}) with {self.done_at_take} of "
            f"{s.inputs} done; the old one, woken, exited "
            f"{self.woken_code} (target 75) {self.woken_after_s:.1f} s after SIGCONT, "
            f"host_name_lost logged: {self.lost_logged}",
            f"status shows on {VICTIM}: {self.conflict or '(nothing)'}",
            f"end states: {dict(sorted(self.by_state().items()))}; all settled: {self.ended}; "
            f"left in submitting: {self.left_submitting()} (target 0)",
            f"inputs rendered twice or more: {self.duplicates} (target 0)",
            self.outputs.line(),
        ]


def run_same_name(root: Path, db_url: str, settings: NameSettings) -> NameResult:
    """The drill in ``root``, on the (fresh, empty) database at ``db_url``."""
    s = settings
    where = stage(root, "samename", s.inputs, s.seed)
    with stage_emulator(where, s) as api:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        common = {
            "max_concurrent_renders": s.concurrency,
            "poll_interval": "0.5s",
            "polling_interval": "0.5s",
        }
        try:
            with hosts_dropped(
                where, procs, HOSTS, api_url=api, db_url=db_url, lease_s=s.lease_s, **common
            ) as (view, dropped):
                deadline = dropped + s.deadline_s
                until(lambda: view.states()["done"] >= s.start_after, deadline)
                store = {"url": db_url, "host": VICTIM, "lease": f"{s.lease_s:g}s"}
                (root / AGAIN / "state").mkdir(parents=True)
                config = write_config(
                    root / AGAIN, api, [where.rule], store=store, settle="300ms", **common
                )
                log = where.logs / f"{AGAIN}.log"
                live = _attempt(config, log, procs)
                _drop_name_lock(view, VICTIM)
                blip = _attempt(config, log, procs)
                victim = procs[VICTIM]
                os.kill(victim.pid, signal.SIGSTOP)
                stopped = time.monotonic()
                _drop_name_lock(view, VICTIM)
                until(lambda: _silent_s(view, VICTIM) > s.lease_s + 1, stopped + 60)
                taken = _attempt(config, log, procs, keep=True)
                done_at_take = view.states()["done"]
                stopped_s = time.monotonic() - stopped
                os.kill(victim.pid, signal.SIGCONT)
                woke = time.monotonic()
                until(lambda: victim.poll() is not None, woke + 60)
                woken_after_s = time.monotonic() - woke
                ended = until(lambda: settled(view, s.inputs), deadline)
                conflict = next(h.conflict for h in view.hosts.hosts() if h.name == VICTIM)
                jobs = view.store.latest(limit=1_000_000)
        finally:
            stop_hosts(procs)
        no_delays(api)
        stats = sim_stats(api)
        outputs = check_outputs(jobs, [where.out], api)
    return NameResult(
        settings=s,
        live=live,
        blip=blip,
        taken=taken,
        stopped_s=stopped_s,
        done_at_take=done_at_take,
        woken_code=victim.returncode,
        woken_after_s=woken_after_s,
        lost_logged='"host_name_lost"' in (where.logs / f"{VICTIM}.log").read_text(),
        conflict=conflict,
        ended=ended,
        jobs=jobs,
        outputs=outputs,
        duplicates=rendered_twice(stats),
    )


def _attempt(
    config: Path, log: Path, procs: dict[str, subprocess.Popen[bytes]], *, keep: bool = False
) -> Attempt:
    """Start ``viggle-watch run`` on ``config``; how it ended (or, once started, that it runs:
    with ``keep`` it stays in ``procs`` and renders on)."""
    mark = log.stat().st_size if log.exists() else 0
    proc = start_service(config, log)
    procs[AGAIN] = proc
    started = time.monotonic()
    until(lambda: proc.poll() is not None or '"service_started"' in _since(log, mark), started + 60)
    if proc.poll() is None and not keep:
        proc.terminate()
        proc.wait(timeout=60)
        return Attempt(None, "it started (target: refused)")
    lines = _since(log, mark).splitlines() or [""]
    said = next((ln for ln in reversed(lines) if "error:" in ln), lines[-1])
    if proc.poll() is None:
        return Attempt(None, _event(said))
    return Attempt(proc.returncode, said.split("error: ", 1)[-1][:300])


def _since(log: Path, offset: int) -> str:
    with log.open("rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", errors="replace")


def _event(line: str) -> str:
    try:
        return str(json.loads(line).get("event", line))
    except ValueError:
        return line


def _drop_name_lock(view: SharedView, host: str) -> None:
    """What a PostgreSQL blip does to a host's session lock on its name: the backend ends."""
    with view.db.read() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a"
            " JOIN pg_locks l ON l.pid = a.pid WHERE l.locktype = 'advisory'"
            " AND l.classid = ? AND a.application_name = ? AND a.datname = current_database()",
            (HOST_LOCK, f"viggle-watch@{host}"),
        )


def _silent_s(view: SharedView, host: str) -> float:
    row = next((h for h in view.hosts.hosts() if h.name == host), None)
    return 0.0 if row is None else time.time() - row.seen_at
