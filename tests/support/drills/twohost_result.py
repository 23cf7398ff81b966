"""The two-host drill's settings and what it found (``twohost``: the run)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from tests.support.drills.checks import OutputCheck
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
