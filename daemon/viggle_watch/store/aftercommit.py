"""Work that waits for the outermost transaction to commit (issue 19; docs/scaling-out.md).

A state change may run inside a longer transaction (on PostgreSQL, ``Holds.placing`` ends a
job inside the transaction that holds its row lock; a ``batch()`` groups many writes): its
inner ``write()`` is only a savepoint, and the change is not the store's until the outermost
transaction commits. So what the service does *because* a job moved — its events, its hooks,
its announcements — is queued here and run only after that commit; a rollback, of the whole
or of the savepoint the change was made in, drops it, so no hook fires for a state the store
never recorded (nor twice, when the change is made again later).

Each backend keeps one queue, touched only under its lock by the thread in the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Call = Callable[[], None]


class AfterCommit:
    """One list of calls per open transaction level (outermost first)."""

    def __init__(self) -> None:
        self._levels: list[list[Call]] = []

    @property
    def depth(self) -> int:
        """How many transaction levels are open (0: none)."""
        return len(self._levels)

    def begin(self) -> None:
        """A transaction or savepoint opened."""
        self._levels.append([])

    def add(self, call: Call) -> bool:
        """Queue ``call`` on the innermost open level; False when none is open (the caller
        runs it at once: there is nothing to wait for)."""
        if not self._levels:
            return False
        self._levels[-1].append(call)
        return True

    def end(self, *, committed: bool) -> list[Call]:
        """The innermost level closed. Rolled back: its calls are dropped. Released into an
        outer level: they wait for that one. The outermost committed: the calls to run now,
        in the order they were queued."""
        calls = self._levels.pop()
        if not committed:
            return []
        if self._levels:
            self._levels[-1].extend(calls)
            return []
        return calls


def run_all(calls: Iterable[Call]) -> None:
    """Run every call, even when one raises; then raise the first error (one listener's
    trouble must not silence the others')."""
    first: BaseException | None = None
    for call in calls:
        try:
            call()
        except Exception as exc:  # raised below, after the rest have run
            first = first or exc
    if first is not None:
        raise first
