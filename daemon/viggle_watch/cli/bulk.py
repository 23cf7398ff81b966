"""`jobs cancel|retry|accept --state S [--rule R] [--older-than D]`: one action on many jobs,
counted and confirmed first (``--yes`` for scripts), each job moved on its own (one that cannot
be is named and skipped; the others go on)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from viggle_watch.config import parse_duration
from viggle_watch.errors import ViggleWatchError
from viggle_watch.store.jobs import Job, JobStore
from viggle_watch.store.states import State

MAX_JOBS = 100_000
PAST = {"cancel": "cancelled", "retry": "retried", "accept": "accepted"}


def selected(store: JobStore, args: argparse.Namespace, now: float) -> list[Job]:
    """The jobs ``--state``/``--rule``/``--older-than`` name, oldest first."""
    if args.id is not None:
        raise ViggleWatchError("give a job id or --state, not both")
    jobs = store.latest(state=State(args.state), rule=args.rule, limit=MAX_JOBS)
    if args.older_than is not None:
        try:
            older_s = parse_duration(args.older_than)
        except ValueError as exc:
            raise ViggleWatchError(f"--older-than {args.older_than!r}: {exc}") from None
        jobs = [j for j in jobs if now - j.updated_at >= older_s]
    return sorted(jobs, key=lambda j: j.id)


def confirmed(question: str, *, yes: bool, ask: Callable[[str], str] = input) -> bool:
    """``--yes``, or a person answering y; a script without ``--yes`` is refused, not hung."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise ViggleWatchError(f"{question} Add --yes to do it without being asked.")
    try:
        answer = ask(f"{question} [y/N] ")
    except EOFError:  # Ctrl-D at the prompt: no
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def run_bulk(jobs: list[Job], verb: str, act: Callable[[Job], Job], *, yes: bool) -> int:
    """Ask once, then ``act`` on each job; print what was done and what was skipped."""
    if not jobs:
        print(f"no job to {verb}")
        return 0
    if not confirmed(f"{verb} {len(jobs)} job(s) (ids {_ids(jobs)})?", yes=yes):
        print(f"nothing done: no job was {PAST.get(verb, verb)}")
        return 1
    skipped: list[str] = []
    for job in jobs:
        try:
            act(job)
        except ViggleWatchError as exc:
            skipped.append(f"job {job.id}: {exc}")
    print(f"{len(jobs) - len(skipped)} job(s) {PAST.get(verb, verb)}; {len(skipped)} skipped")
    for line in skipped:
        print(f"  {line}")
    return 0


def _ids(jobs: list[Job]) -> str:
    ids = [str(j.id) for j in jobs]
    return ", ".join(ids) if len(ids) <= 10 else f"{', '.join(ids[:10])} …"
