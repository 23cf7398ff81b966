"""The two-host drill: two services share one PostgreSQL queue and one watch folder; one of them
is SIGKILLed mid-way and never comes back.

Run: python -m bench.drills.twohost [--inputs 200] [--fast] [--pg-url URL] [--seed 8] [--keep DIR]
(or python bench/drills/twohost.py ...)

Two ``viggle-watch run`` processes (``python -m daemon run``), each with its own state dir and
``store.host`` name, on a fresh database of one PostgreSQL server (``--pg-url``, else
``$VIGGLE_TEST_PG_URL``, else a throwaway cluster from ``tests/pgserver.py``), watch the same
folder by polling, against one emulator process (``viggle-watch sim``) whose renders take
``--latency`` ± ``--jitter`` s and whose every request waits ``--request-delay`` s. The
inputs (distinct character images, one 1-second scene: 1 credit per job) are moved into the
folder once both services run. The daily cap (``--cap``, default 90 % of the inputs' credits)
binds: the rest must wait in ``waiting_budget``, with both hosts together never committing more.

Mid-way (once ``--kill-after`` jobs are done) one host is SIGKILLed at a moment chosen by
reading the store: it holds >= ``--kill-rendering`` rendering jobs and a downloading one (and,
early on, a submitting one too; later the demands relax). It is never restarted: the survivor
takes its jobs over once their leases (``--lease``) run out.

Prints: every input rendered exactly once (the emulator's render_submissions per input sha256:
duplicates 0), the inputs not rendered and why (only waiting_budget or uncertain), the jobs the
survivor finished that the dead host held (take-over), uncertain jobs (only the dead host's
submitting ones), credits committed vs the cap, jobs lost (0), outputs corrupt or partial (0),
wall time. The fast variant (``--fast``: 40 inputs) runs in tests/e2e/test_two_host_drill.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `python -m bench.drills.twohost`

from drillkit import (
    OutputCheck,
    characters_rule,
    check_outputs,
    lost_jobs,
    make_images,
    make_scenes,
    rendered_twice,
    start_service,
    submissions_per_input,
    uncertain_lines,
    wait_until,
    with_overrides,
)
from pgkit import (
    PgUnavailableError,
    SharedView,
    emulator_process,
    fresh_database,
    host_config,
    no_delays,
    pg_server,
    shared_view,
    sim_stats,
)

from viggle_watch.store.jobs import Event, Job
from viggle_watch.store.states import State

HOSTS: Final = ("host-a", "host-b")
SETTLED: Final = frozenset(
    {State.DONE, State.FAILED, State.CANCELLED, State.UNCERTAIN, State.WAITING_BUDGET}
)
"""Where a job of this drill may rest: done, or held (for budget, or for a person)."""
HELD_AT_KILL: Final = frozenset(
    {
        State.QUEUED,
        State.PREPARING,
        State.SUBMITTING,
        State.RENDERING,
        State.DOWNLOADING,
        State.WAITING_BUDGET,
    }
)


@dataclass(frozen=True)
class TwoHostSettings:
    inputs: int = 200
    cap: int | None = None  # daily_credits; None: 90 % of the inputs (1 credit each)
    latency_s: float = 3.0
    jitter_s: float = 1.5
    request_delay_s: float = 0.05
    concurrency: int = 16  # max_concurrent_renders: counted in the shared store (both hosts)
    lease_s: float = 10.0
    poll_s: float = 0.5
    polling_s: float = 0.5  # how often each host's polling observer looks at the folder
    kill_after: int = 80  # jobs done before the kill is aimed (mid-way)
    kill_rendering: int = 5
    kill_relax_s: float = 20.0  # then wait this long for the full set of held states
    deadline_s: float = 900.0
    seed: int = 8

    @property
    def daily_cap(self) -> int:
        return self.cap if self.cap is not None else max(1, round(self.inputs * 0.9))


FAST: Final = TwoHostSettings(
    inputs=40,
    latency_s=1.5,
    jitter_s=0.7,
    request_delay_s=0.03,
    concurrency=12,
    kill_after=8,
    kill_rendering=3,
    kill_relax_s=8.0,
    deadline_s=120.0,
)


@dataclass
class Kill:
    victim: str
    survivor: str
    at: float  # time.time() once the victim is dead
    after_s: float  # since the inputs were dropped
    wanted: str  # what the store showed when the kill was aimed
    done_before: int
    held: dict[int, State]  # every job the victim held when it died, and its state then


@dataclass
class TwoHostResult:
    settings: TwoHostSettings
    pg: str
    kill: Kill
    ended: bool
    jobs: list[Job]
    events: dict[int, list[Event]]
    rendered: Counter[str]  # paid renders per input image sha256 (the emulator's stats)
    duplicates: int
    submissions: int
    charged: float
    committed: float
    outputs: OutputCheck
    lost: int
    max_in_flight: int
    wall_s: float
    not_rendered: dict[str, Counter[str]] = field(default_factory=dict)
    uncertain: list[str] = field(default_factory=list)

    # --- what the test asserts

    def by_state(self) -> Counter[str]:
        return Counter(str(j.state) for j in self.jobs)

    def taken_over(self) -> list[Job]:
        """The dead host's jobs that the survivor finished (done, its name on them)."""
        return [
            j
            for j in self.jobs
            if j.id in self.kill.held and j.state == State.DONE and j.owner == self.kill.survivor
        ]

    def stray_uncertain(self) -> list[Job]:
        """Uncertain jobs that are not the dead host's submitting ones (target none)."""
        submitting = {i for i, s in self.kill.held.items() if s == State.SUBMITTING}
        return [j for j in self.jobs if j.state == State.UNCERTAIN and j.id not in submitting]

    def unsettled(self) -> list[Job]:
        return [j for j in self.jobs if j.state not in SETTLED]

    def moved_after_kill(self) -> int:
        """The dead host's jobs with a transition after its death (only the survivor's)."""
        return sum(
            1
            for i in self.kill.held
            if any(e.at > self.kill.at and e.from_state != e.to_state for e in self.events[i])
        )

    # --- the figures

    def lines(self) -> list[str]:
        s, k = self.settings, self.kill
        held = Counter(str(v) for v in k.held.values())
        fate: dict[str, Counter[str]] = {}
        for job in self.jobs:
            if job.id in k.held:
                fate.setdefault(str(k.held[job.id]), Counter())[str(job.state)] += 1
        done_by = Counter(j.owner or "?" for j in self.jobs if j.state == State.DONE)
        once = sum(1 for n in self.rendered.values() if n == 1)
        not_rendered = sum(sum(c.values()) for c in self.not_rendered.values())
        over = ", over the limit" if self.max_in_flight > s.concurrency else ""
        out = [
            f"two-host drill: {s.inputs} inputs x 1 scene = {s.inputs} jobs (1 credit each), "
            f"hosts {' + '.join(HOSTS)} on one PostgreSQL ({self.pg}), seed {s.seed}",
            f"emulator (own process): renders {s.latency_s:g} ± {s.jitter_s:g} s, "
            f"{s.request_delay_s * 1000:g} ms per request; lease {s.lease_s:g} s; "
            f"max_concurrent_renders {s.concurrency} across both hosts (max seen in flight: "
            f"{self.max_in_flight}{over}); daily cap {s.daily_cap} credits",
            f"SIGKILL {k.victim} {k.after_s:.1f}s after the drop, {k.done_before} jobs done; "
            f"aimed at: {k.wanted}",
            f"  it held {len(k.held)} jobs: {dict(sorted(held.items()))}",
            f"end states: {dict(sorted(self.by_state().items()))}; all settled: {self.ended}",
            f"done by host: {dict(sorted(done_by.items()))}",
            f"inputs rendered exactly once: {once}; rendered twice or more: {self.duplicates} "
            f"(target 0); paid submissions: {self.submissions}",
            f"inputs not rendered: {not_rendered} "
            + (
                "; ".join(
                    f"{state} {sum(why.values())} ({', '.join(f'{n}x {w!r}' for w, n in why.most_common(3))})"  # noqa: E501
                    for state, why in sorted(self.not_rendered.items())
                )
                or "(none)"
            ),
            f"take-over: the survivor {k.survivor} finished {len(self.taken_over())} of the "
            f"{len(k.held)} jobs {k.victim} held; it moved {self.moved_after_kill()} of them on "
            "(job_events after the kill)",
            "  state at the kill -> end state: "
            + "; ".join(f"{a}: {dict(sorted(b.items()))}" for a, b in sorted(fate.items())),
            f"uncertain: {self.by_state()['uncertain']} "
            f"(the dead host's submitting at the kill: {held['submitting']}; "
            f"others: {len(self.stray_uncertain())}, target 0)",
            *(f"  {line}" for line in self.uncertain),
            f"credits committed {self.committed:g} of the cap {s.daily_cap} "
            f"(held: {self.committed <= s.daily_cap + 1e-9}); the emulator charged "
            f"{self.charged:g}",
            f"jobs lost: {self.lost} (target 0); unsettled: {len(self.unsettled())} (target 0)",
            self.outputs.line(),
            *(f"  corrupt: {c}" for c in self.outputs.corrupt[:10]),
            f"wall time (drop to all settled): {self.wall_s:.1f}s",
        ]
        return out


# ----------------------------------------------------------------------------- the run


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
    logs = root / "logs"
    logs.mkdir(parents=True)
    scenes = make_scenes(root / "assets", 1, seed=s.seed)
    staged = make_images(root / "staging", s.inputs, seed=s.seed)
    watch, out = root / "in", root / "out"
    watch.mkdir()
    rule = characters_rule("twohost", watch, out, scenes)
    with emulator_process(
        logs / "emulator.log",
        latency_s=s.latency_s,
        jitter_s=s.jitter_s,
        request_delay_s=s.request_delay_s,
        seed=s.seed,
    ) as api:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for host in HOSTS:
                config = host_config(
                    root,
                    host,
                    api_url=api,
                    db_url=db_url,
                    rules=[rule],
                    lease_s=s.lease_s,
                    budget={"daily_credits": s.daily_cap},
                    max_concurrent_renders=s.concurrency,
                    poll_interval=f"{s.poll_s}s",
                    polling_interval=f"{s.polling_s}s",
                    settle="300ms",
                )
                procs[host] = start_service(config, logs / f"{host}.log")
            with shared_view(db_url) as view:
                _await_started(logs, procs)
                for image in staged:  # the same filesystem: each appears whole
                    image.rename(watch / image.name)
                dropped = time.monotonic()
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
        outputs = check_outputs(jobs, [out], api)
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


def _await_started(logs: Path, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """Until each service logged ``service_started`` (its observers watch the folder)."""

    def started(host: str) -> bool:
        if procs[host].poll() is not None:
            raise RuntimeError(f"{host} exited ({procs[host].returncode}); see its log")
        log = logs / f"{host}.log"
        return log.exists() and '"service_started"' in log.read_text(encoding="utf-8")

    if not wait_until(lambda: all(started(h) for h in procs), 60.0, 0.1):
        raise RuntimeError("the services did not start within 60 s; see their logs")


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


# ----------------------------------------------------------------------------- the script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fast", action="store_true", help="the small variant (40 inputs)")
    parser.add_argument("--inputs", type=int, help="images (x 1 scene); default 200")
    parser.add_argument("--cap", type=int, help="daily_credits (default 90 %% of the inputs)")
    parser.add_argument("--latency", type=float, help="render seconds (default 3)")
    parser.add_argument("--jitter", type=float, help="± render seconds (default 1.5)")
    parser.add_argument("--request-delay", type=float, help="seconds per request (default 0.05)")
    parser.add_argument("--concurrency", type=int, help="max_concurrent_renders (default 16)")
    parser.add_argument("--lease", type=float, help="store.lease seconds (default 10)")
    parser.add_argument("--kill-after", type=int, help="jobs done before the kill (default 80)")
    parser.add_argument("--kill-rendering", type=int, help="renders the victim holds (5)")
    parser.add_argument("--deadline", type=float, help="seconds (default 900)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--pg-url", help="a PostgreSQL server (default $VIGGLE_TEST_PG_URL)")
    parser.add_argument("--keep", help="keep the workspace (logs, outputs) in this folder")
    args = parser.parse_args()
    settings = with_overrides(
        FAST if args.fast else TwoHostSettings(),
        inputs=args.inputs,
        cap=args.cap,
        latency_s=args.latency,
        jitter_s=args.jitter,
        request_delay_s=args.request_delay,
        concurrency=args.concurrency,
        lease_s=args.lease,
        kill_after=args.kill_after,
        kill_rendering=args.kill_rendering,
        deadline_s=args.deadline,
        seed=args.seed,
    )
    started = time.monotonic()
    try:
        import psycopg  # noqa: F401  (only: is it there?)
    except ImportError as exc:
        print(f"two-host drill skipped: psycopg is not importable ({exc})")
        return 2
    try:
        with (
            pg_server(args.pg_url) as (server, where),
            fresh_database(server, "viggle_twohost") as db,
        ):
            if args.keep:
                root = Path(args.keep)
                root.mkdir(parents=True, exist_ok=True)
                result = _run(root, db, settings, where)
            else:
                with tempfile.TemporaryDirectory(prefix="drill-twohost-") as tmp:
                    result = _run(Path(tmp), db, settings, where)
    except PgUnavailableError as exc:
        print(f"two-host drill skipped: no PostgreSQL ({exc}); pass --pg-url or install initdb")
        return 2
    for line in result.lines():
        print(line)
    print(f"wall time (whole drill, PostgreSQL included): {time.monotonic() - started:.1f}s")
    return 0


def _run(root: Path, db: str, settings: TwoHostSettings, where: str) -> TwoHostResult:
    return run_twohost(root, db, settings, pg=where, progress=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
