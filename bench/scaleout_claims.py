"""Scale-out, part 2 (``bench/scaleout.py`` runs it after the throughput): the claim latency of
many hosts on one queue.

For each count in ``--claimers``, that many processes, each with its own ``JobStore`` (own
connection, own host name) on one fresh database holding a queue of ``--queue`` jobs, claim at
once: ``due(queued, limit=--batch)`` then the ``queued → preparing`` transition, until the queue
is empty. Prints p50/p95/p99 of one claim (due + transition), claims per second, and that every
job was claimed exactly once (the claimers' own records, and every row's owner in the store).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from tests.support.pgserver import fresh_database
from viggle_watch.store.jobs import JobStore
from viggle_watch.store.postgres import PostgresDatabase
from viggle_watch.store.spec import InputRef, JobSpec
from viggle_watch.store.states import State


@dataclass
class Claims:
    claimers: int
    queue: int
    batch: int
    wall_s: float
    latencies_s: list[tuple[float, float]]  # per claim: seconds in due(), in the transition
    claims: Counter[int]  # job id -> how many claimers recorded it
    owners_ok: bool  # every row's owner is the claimer that recorded it, and it is preparing
    empty_dues: int

    def pct(self, q: float, part: str = "both") -> float:
        """The ``q`` quantile of one claim's latency in ms: due + transition, or one part."""
        data = sorted(
            d + t if part == "both" else d if part == "due" else t for d, t in self.latencies_s
        )
        return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))] * 1000

    @property
    def exactly_once(self) -> bool:
        return len(self.claims) == self.queue and set(self.claims.values()) == {1}

    def line(self) -> str:
        twice = sum(1 for n in self.claims.values() if n > 1)
        return (
            f"{self.claimers:>2} claimer(s): {sum(self.claims.values())} claims in "
            f"{self.wall_s:.2f}s = {sum(self.claims.values()) / self.wall_s:.0f}/s; one claim "
            f"(due + transition) p50 {self.pct(0.5):.1f} ms, p95 {self.pct(0.95):.1f} ms, "
            f"p99 {self.pct(0.99):.1f} ms (due() alone p50 {self.pct(0.5, 'due'):.1f} / p95 "
            f"{self.pct(0.95, 'due'):.1f} ms, the transition alone p50 "
            f"{self.pct(0.5, 'transition'):.1f} / p95 {self.pct(0.95, 'transition'):.1f} ms)"
            f"\n    exactly once: {self.exactly_once} "
            f"(claimed {len(self.claims)} of {self.queue}, twice {twice}, owners match "
            f"{self.owners_ok}); empty dues {self.empty_dues}"
        )


def _spec(i: int) -> JobSpec:
    return JobSpec(
        rule="claims",
        character=InputRef("character", f"/in/c{i}.png", f"{i:064x}", 1000 + i),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 56789, 1.0),
        model="V4_Preview",
        output_name=f"c{i}__dance",
    )


ClaimerResult = tuple[str, list[tuple[int, float, float]], int, float, float]
"""A claimer's host name, [(job id, seconds in due(), seconds in the transition)], empty dues,
when it started and stopped."""


def _claimer(url: str, host: str, batch: int, barrier: Barrier, out: Queue[ClaimerResult]) -> None:
    """One claimer process: connect, wait for the others, then claim until the queue is empty."""
    db = PostgresDatabase.open(url, host=host)
    store = JobStore(db)
    got: list[tuple[int, float, float]] = []
    empty = 0
    try:
        barrier.wait()
        started = time.time()
        while empty < 3:  # three empty dues in a row: the rest is claimed by the others
            t0 = time.perf_counter()
            jobs = store.due(State.QUEUED, time.time(), limit=batch)
            t1 = time.perf_counter()
            for job in jobs:
                store.transition(job.id, State.QUEUED, State.PREPARING, at=time.time())
            if jobs:
                due_s, moved_s = (t1 - t0) / len(jobs), (time.perf_counter() - t1) / len(jobs)
                got += [(job.id, due_s, moved_s) for job in jobs]
            empty = 0 if jobs else empty + 1
        out.put((host, got, empty, started, time.time()))
    finally:
        db.close()


def run_claims(server: str, claimers: int, args: argparse.Namespace) -> Claims:
    with fresh_database(server, "viggle_claims") as url:
        db = PostgresDatabase.open(url, host="filler")
        try:
            store = JobStore(db)
            now = time.time()
            for i in range(args.queue):
                store.enqueue(
                    _spec(i), dedup_key=f"claims-{i}", source_path=f"/in/c{i}.png", at=now
                )
        finally:
            db.close()
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(claimers)
        out: Queue[ClaimerResult] = ctx.Queue()
        procs = [
            ctx.Process(target=_claimer, args=(url, f"claimer-{i}", args.batch, barrier, out))
            for i in range(claimers)
        ]
        for proc in procs:
            proc.start()
        results = [out.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
        wall = max(0.001, max(r[4] for r in results) - min(r[3] for r in results))
        claims: Counter[int] = Counter()
        latencies: list[tuple[float, float]] = []
        recorded: dict[int, str] = {}
        for host, got, _, _, _ in results:
            for job_id, due_s, moved_s in got:
                claims[job_id] += 1
                latencies.append((due_s, moved_s))
                recorded[job_id] = host
        owners_ok = _owners_match(url, recorded)
    return Claims(
        claimers=claimers,
        queue=args.queue,
        batch=args.batch,
        wall_s=wall,
        latencies_s=latencies,
        claims=claims,
        owners_ok=owners_ok,
        empty_dues=sum(r[2] for r in results),
    )


def _owners_match(url: str, recorded: dict[int, str]) -> bool:
    db = PostgresDatabase.open(url, host="checker", readonly=True)
    try:
        with db.read() as conn:
            rows = conn.execute("SELECT id, state, owner FROM jobs").fetchall()
    finally:
        db.close()
    return all(
        str(r[1]) == State.PREPARING and recorded.get(int(r[0])) == r[2] for r in rows
    ) and len(rows) == len(recorded)


def claim_latency(server: str, args: argparse.Namespace) -> None:
    """:func:`run_claims` for each count in ``--claimers``; prints each and how they compare."""
    counts = [int(c) for c in args.claimers.split(",") if c.strip()]
    print(
        f"== claim latency: a queue of {args.queue} jobs, due(limit={args.batch}) + transition "
        f"per claim, claimer processes {counts} (each its own connection)",
        flush=True,
    )
    results = []
    for n in counts:
        result = run_claims(server, n, args)
        print(result.line(), flush=True)
        results.append(result)
    base = results[0]
    for r in results[1:]:
        print(
            f"{r.claimers} vs {base.claimers} claimer(s): p50 {r.pct(0.5) / base.pct(0.5):.2f}x, "
            f"p95 {r.pct(0.95) / base.pct(0.95):.2f}x, claims/s "
            f"{(len(r.latencies_s) / r.wall_s) / (len(base.latencies_s) / base.wall_s):.2f}x; "
            f"p50 of due() {r.pct(0.5, 'due') / base.pct(0.5, 'due'):.2f}x vs of the transition "
            f"(its own row: nothing to contend for) "
            f"{r.pct(0.5, 'transition') / base.pct(0.5, 'transition'):.2f}x"
        )
