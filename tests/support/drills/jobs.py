"""A drill's look at a job store: read-only, and only once it exists."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from viggle_watch.errors import StoreError
from viggle_watch.store.jobs import Event, Job, JobStore
from viggle_watch.store.sqlite import Database
from viggle_watch.store.states import State

ENDED: Final = frozenset({State.DONE, State.FAILED, State.UNCERTAIN})
"""Where a drill's job may end: done, failed with a reason, or uncertain (held for a person)."""


@contextlib.contextmanager
def reading(path: Path) -> Iterator[JobStore | None]:
    """The job store at ``path`` opened read-only, or None while it does not exist yet."""
    if not path.exists():
        yield None
        return
    try:
        db = Database.open(path, readonly=True)
    except StoreError:  # being created or migrated right now
        yield None
        return
    try:
        yield JobStore(db)
    finally:
        db.close()


def read_jobs(path: Path) -> list[Job]:
    with reading(path) as store:
        return [] if store is None else store.latest(limit=1_000_000)


def read_counts(path: Path) -> Counter[str]:
    """How many jobs are in each state (cheap: one GROUP BY)."""
    with reading(path) as store:
        if store is None:
            return Counter()
        return Counter({str(s): n for s, n in store.counts().items() if n})


def read_events(path: Path, job_ids: Iterable[int]) -> dict[int, list[Event]]:
    with reading(path) as store:
        if store is None:
            return {}
        return {i: store.events(i) for i in job_ids}


def all_ended(store: JobStore, expected: int) -> bool:
    counts = store.counts()
    return sum(counts.values()) >= expected and all(
        n == 0 for s, n in counts.items() if s not in ENDED
    )
