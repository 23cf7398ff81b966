"""The two-host drill's blip variant (issue 19 §2): both hosts reach PostgreSQL through a TCP
forwarder (``tests/support/pgproxy.py``) that is cut for ``blip_s`` — what a stopped server
does to its clients — at moments when the store shows paid requests on their way, several
times. The answers that came back while the store was away must reach it once it is back: no
job left in ``submitting``, none made ``uncertain`` by a blip, nothing paid twice, every output
whole. ``python -m bench.drills.twohost --blip`` prints it; fast in
``tests/e2e/test_two_host_blip.py``."""

from __future__ import annotations

import json
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
    shared_view,
    sim_stats,
    stage,
    stage_emulator,
    stop_hosts,
    until,
)
from tests.support.drills.twohost_result import HOSTS, SETTLED
from tests.support.pgproxy import proxied
from viggle_watch.render.journal import JOURNAL
from viggle_watch.store.jobs import Job
from viggle_watch.store.states import State

SUBMITTING: Final = str(State.SUBMITTING)
# what the hosts log about answers the store could not take at once, and how they got there
KEPT: Final = "outcome_not_recorded"
WRITTEN: Final = ("outcome_recorded_late", "outcome_found_recorded")
DROPPED: Final = "outcome_dropped"  # an intent that was never written: nothing to record


@dataclass(frozen=True)
class BlipSettings:
    inputs: int = 80
    latency_s: float = 1.5
    jitter_s: float = 0.5
    request_delay_s: float = 0.4  # every request takes this long: POSTs are on the wire a while
    lease_s: float = 10.0
    concurrency: int = 16
    blips: int = 4
    blip_s: float = 3.0  # as in the issue: PostgreSQL stopped for 3 s
    every_s: float = 4.0  # at least this long between one blip's end and the next
    deadline_s: float = 300.0
    seed: int = 21


FAST_BLIP: Final = BlipSettings(inputs=24, blips=2)


@dataclass
class BlipResult:
    settings: BlipSettings
    aimed: list[int]  # jobs seen submitting as each blip began
    ended: bool
    jobs: list[Job]
    outputs: OutputCheck
    duplicates: int
    submissions: int
    said: Counter[str]  # the hosts' lines about kept answers
    kept_to: Counter[str]  # the kept answers by where they lead (rendering: a Viggle id)
    journals_left: int

    def by_state(self) -> Counter[str]:
        return Counter(str(j.state) for j in self.jobs)

    def left_submitting(self) -> int:
        return sum(1 for j in self.jobs if j.state == State.SUBMITTING)

    def lines(self) -> list[str]:
        s = self.settings
        written = {w: self.said[w] for w in (*WRITTEN, DROPPED)}
        return [
            f"two-host blip drill: {s.inputs} inputs, hosts {' + '.join(HOSTS)}, lease "
            f"{s.lease_s:g} s, {s.request_delay_s * 1000:g} ms per request, seed {s.seed}",
            f"the store cut {len(self.aimed)} times for {s.blip_s:g} s, each while jobs were "
            f"submitting: {self.aimed}",
            f"answers the store could not take at once: {self.said[KEPT]} "
            f"({dict(sorted(self.kept_to.items()))}); settled once it was back: "
            f"{sum(written.values())} ({written}); journals left: {self.journals_left}",
            f"end states: {dict(sorted(self.by_state().items()))}; all settled: {self.ended}; "
            f"left in submitting: {self.left_submitting()} (target 0)",
            f"inputs rendered twice or more: {self.duplicates} (target 0); paid submissions: "
            f"{self.submissions} for {len(self.jobs)} jobs",
            self.outputs.line(),
        ]


def run_blip(root: Path, db_url: str, settings: BlipSettings) -> BlipResult:
    """The drill in ``root``, on the (fresh, empty) database at ``db_url``."""
    s = settings
    where = stage(root, "blip", s.inputs, s.seed)
    with (
        proxied(db_url) as proxy,
        stage_emulator(where, s) as api,
    ):
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            with (
                hosts_dropped(
                    where,
                    procs,
                    HOSTS,
                    api_url=api,
                    db_url=proxy.url,  # the hosts through the forwarder; the view straight
                    lease_s=s.lease_s,
                    max_concurrent_renders=s.concurrency,
                    poll_interval="0.5s",
                    polling_interval="0.5s",
                ) as (_through_the_cut, dropped),
                shared_view(db_url) as view,
            ):
                aimed: list[int] = []
                for _ in range(s.blips):
                    seen = _aim(view, dropped + s.deadline_s)
                    if not seen:
                        break
                    proxy.cut()
                    aimed.append(seen)
                    time.sleep(s.blip_s)
                    proxy.restore()
                    time.sleep(s.every_s)
                ended = until(lambda: settled(view, s.inputs), dropped + s.deadline_s)
                jobs = view.store.latest(limit=1_000_000)
        finally:
            stop_hosts(procs)
        no_delays(api)
        stats = sim_stats(api)
        outputs = check_outputs(jobs, [where.out], api)
    return BlipResult(
        settings=s,
        aimed=aimed,
        ended=ended,
        jobs=jobs,
        outputs=outputs,
        duplicates=rendered_twice(stats),
        submissions=len(stats["render_submissions"]),
        **_said([where.logs / f"{host}.log" for host in HOSTS]),
        journals_left=sum(1 for h in HOSTS if (where.root / h / "state" / JOURNAL).exists()),
    )


def _aim(view: SharedView, deadline: float) -> int:
    """Until the store shows paid requests on their way: how many (0: the deadline came, or
    every job was past submitting already)."""
    while time.monotonic() < deadline:
        held = view.held()
        submitting = sum(n for (_, st), n in held.items() if st == SUBMITTING)
        if submitting:
            return submitting
        if held and all(State(st) in SETTLED for (_, st) in held):
            return 0
        time.sleep(0.005)
    return 0


def _said(logs: list[Path]) -> dict[str, Counter[str]]:
    """How often the hosts' logs tell of an answer kept (and where each leads), and of one
    settled later."""
    said: Counter[str] = Counter()
    kept_to: Counter[str] = Counter()
    for log in logs:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if "outcome_" not in line:
                continue
            try:
                doc = json.loads(line)
                event = str(doc["event"])
            except (ValueError, KeyError, TypeError):
                continue
            if event in (KEPT, DROPPED, *WRITTEN):
                said[event] += 1
            if event == KEPT:
                kept_to[str(doc.get("to"))] += 1
    return {"said": said, "kept_to": kept_to}
