"""The two-host drill: two services share one PostgreSQL queue and one watch folder; one of them
is SIGKILLed mid-way and never comes back (``bench/drills/twohost.py`` says the whole of it;
fast in ``tests/e2e/test_two_host_drill.py``). Its settings and result: ``twohost_result``."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.support.drills.checks import (
    check_outputs,
    lost_jobs,
    rendered_twice,
    submissions_per_input,
    uncertain_lines,
)
from tests.support.drills.multihost import (
    SharedView,
    hosts_dropped,
    no_delays,
    sim_stats,
    stage,
    stage_emulator,
)
from tests.support.drills.twohost_result import (
    HELD_AT_KILL,
    HOSTS,
    SETTLED,
    Kill,
    TwoHostResult,
    TwoHostSettings,
)
from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.states import State


def run_twohost(
    root: Path,
    db_url: str,
    settings: TwoHostSettings,
    *,
    pg: str = "",
    progress: Callable[[str], None] | None = None,
) -> TwoHostResult:
    """The drill in ``root``, on the (fresh, empty) database at ``db_url``."""
    s = settings
    where = stage(root, "twohost", s.inputs, s.seed)
    with stage_emulator(where, s) as api:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            with hosts_dropped(
                where,
                procs,
                HOSTS,
                api_url=api,
                db_url=db_url,
                lease_s=s.lease_s,
                budget={"daily_credits": s.daily_cap},
                max_concurrent_renders=s.concurrency,
                poll_interval=f"{s.poll_s}s",
                polling_interval=f"{s.polling_s}s",
            ) as (view, dropped):
                monitor = _Monitor(view)
                kill = _kill_midway(view, procs, s, dropped, monitor)
                survivor = procs[kill.survivor]
                ended = monitor.until(
                    lambda: _settled(view, s.inputs) or survivor.poll() is not None,
                    dropped + s.deadline_s,
                    progress,
                    dropped,
                )
                ended = ended and survivor.poll() is None
                wall = time.monotonic() - dropped
                survivor.terminate()
                survivor.wait(timeout=60)
                jobs = view.store.latest(limit=1_000_000)
                events = {j.id: view.store.events(j.id) for j in jobs}
                committed = view.spent()
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        no_delays(api)
        stats = sim_stats(api)
        outputs = check_outputs(jobs, [where.out], api)
    rendered = Counter(
        str(sha) for (sha, _scene), n in submissions_per_input(stats).items() for _ in range(n)
    )
    return TwoHostResult(
        settings=s,
        pg=pg,
        kill=kill,
        ended=ended,
        jobs=jobs,
        events=events,
        rendered=rendered,
        duplicates=rendered_twice(stats),
        submissions=len(stats["render_submissions"]),
        charged=float(stats["credits_spent"]),
        committed=committed,
        outputs=outputs,
        lost=lost_jobs(jobs, s.inputs),
        max_in_flight=monitor.max_in_flight,
        wall_s=wall,
        not_rendered=_not_rendered(jobs, events, rendered),
        uncertain=uncertain_lines(jobs, events, stats),
    )


class _Monitor:
    """Reads who holds what, often; remembers the most renders seen in flight at once."""

    def __init__(self, view: SharedView) -> None:
        self.view = view
        self.max_in_flight = 0

    def look(self) -> Counter[tuple[str | None, str]]:
        held = self.view.held()
        in_flight = sum(n for (_, st), n in held.items() if st in ("submitting", "rendering"))
        self.max_in_flight = max(self.max_in_flight, in_flight)
        return held

    def until(
        self,
        done: Callable[[], bool],
        deadline: float,
        progress: Callable[[str], None] | None,
        since: float,
    ) -> bool:
        last = time.monotonic()
        while time.monotonic() < deadline:
            self.look()
            if done():
                return True
            if progress is not None and time.monotonic() - last >= 15:
                last = time.monotonic()
                states = dict(sorted(self.view.states().items()))
                progress(f"  {time.monotonic() - since:6.0f}s {states}")
            time.sleep(0.1)
        return done()


def _settled(view: SharedView, expected: int) -> bool:
    states = view.states()
    return sum(states.values()) >= expected and all(State(st) in SETTLED for st in states)


def _wanted(held: Counter[tuple[str | None, str]], host: str, s: TwoHostSettings, t: float) -> str:
    """Why ``host`` is a good victim right now (empty: not yet). The demands relax with ``t``,
    the seconds since the kill could first be aimed."""
    rendering, downloading = held[(host, "rendering")], held[(host, "downloading")]
    submitting = held[(host, "submitting")]
    if rendering < s.kill_rendering:
        return ""
    what = f"{host} held {rendering} rendering, {downloading} downloading, {submitting} submitting"
    if t < s.kill_relax_s / 2:
        return what if downloading and submitting else ""
    if t < s.kill_relax_s:
        return what if downloading else ""
    return what


def _kill_midway(
    view: SharedView,
    procs: dict[str, subprocess.Popen[bytes]],
    s: TwoHostSettings,
    dropped: float,
    monitor: _Monitor,
) -> Kill:
    """SIGKILL one host once the store shows it holding renders (and more) mid-way."""
    aimable: float | None = None
    victim, wanted, done = "", "", 0
    while time.monotonic() - dropped < s.deadline_s:
        held = monitor.look()
        for host, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{host} exited on its own ({proc.returncode})")
        done = sum(n for (_, st), n in held.items() if st == "done")
        if done >= s.kill_after:
            aimable = aimable if aimable is not None else time.monotonic()
            for host in HOSTS:
                wanted = _wanted(held, host, s, time.monotonic() - aimable)
                if wanted:
                    victim = host
                    break
        if victim:
            break
        time.sleep(0.01)
    if not victim:  # never reached: kill whoever holds the most, and say so
        victim = max(HOSTS, key=lambda h: monitor.look()[(h, "rendering")])
        wanted = f"the deadline came first ({victim} held the most renders)"
    procs[victim].kill()
    procs[victim].wait(timeout=30)
    at = time.time()
    held_jobs = {
        j.id: j.state
        for j in view.store.latest(limit=1_000_000)
        if j.owner == victim and j.state in HELD_AT_KILL
    }
    survivor = next(h for h in HOSTS if h != victim)
    return Kill(victim, survivor, at, time.monotonic() - dropped, wanted, done, held_jobs)


def _not_rendered(
    jobs: list[Job], events: dict[int, list[Event]], rendered: Counter[str]
) -> dict[str, Counter[str]]:
    """The jobs whose input the emulator never rendered: per end state, why (their reason)."""
    out: dict[str, Counter[str]] = {}
    for job in jobs:
        if rendered[job.spec.character.sha256]:
            continue
        history = events.get(job.id, [])
        why = job.error_message or (history[-1].detail if history else "") or "?"
        out.setdefault(str(job.state), Counter())[why] += 1
    return out
