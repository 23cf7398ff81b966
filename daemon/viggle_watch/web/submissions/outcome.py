"""Pure: what became of a submission, from what the job store and the folders show of each of
its files now. The intake decides; this only reads its traces:

- jobs made from the file (``job_sources``) since it was submitted: **accepted**;
- the file filed in ``failed/`` with ``NAME.error.json``: **refused**, for the reason written
  there (it does not decode, is over the API's limits, a pair's partner never came…);
- the file filed in ``processed/`` without a job: a **duplicate** — every render it asks for
  exists already (same rule, same content, scene, model and options: the dedup key), or its
  output exists and the rule has ``collision: skip``. Nothing is paid twice;
- the file still where it was placed: **pending** (settling, or a pair waiting for its partner).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from viggle_watch.config import PairsRule, Rule
from viggle_watch.rules.pairing import is_image
from viggle_watch.store.submissions import Decided

State = Literal["pending", "accepted", "refused", "duplicate"]
Where = Literal["here", "failed", "processed", "gone"]
DUPLICATE: Final = (
    "nothing new to render: the same rule, content, scene, model and options were queued"
    " before (or the output exists and the rule has collision: skip); filed in processed/"
)
GONE: Final = "it left the watch folder without a job (moved or deleted by someone?)"
IN_PLACE: Final = (
    "taken without a new job: refused, or a duplicate (the rule has inputs: leave, so"
    " nothing is filed in failed/ or processed/; the service log says which)"
)


@dataclass(frozen=True, slots=True)
class Found:
    """What the job store and the folders show of one submitted file now."""

    jobs: tuple[int, ...] = ()  # made from it since it was submitted
    decided: Decided | None = None  # a refusal or duplicate seen before
    where: Where = "here"  # at its path, or filed in failed/ or processed/, or not found
    error: Mapping[str, object] | None = None  # NAME.error.json beside it in failed/
    handled_in_place: bool = False  # ``inputs: leave``: the intake saw it, made no job
    partner_there: bool = True  # a pairs rule: a file of the other kind with its stem is there
    duplicate_of: tuple[int, ...] = ()  # the jobs a duplicate repeats


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    jobs: tuple[int, ...] = ()
    code: str | None = None
    reason: str | None = None  # why refused, or a duplicate
    waits: str | None = None  # what a pending file waits for
    duplicate_of: tuple[int, ...] = ()


def outcome(found: Found, *, rule: Rule | None, name: str, settle_s: float) -> Outcome:
    """One file's outcome (``rule`` None: a reload removed it)."""
    if found.jobs:
        return Outcome("accepted", jobs=found.jobs)
    if found.decided is not None:
        d = found.decided
        return Outcome(d.state, code=d.code, reason=d.reason, duplicate_of=d.duplicate_of)
    if found.where == "failed":
        error = found.error or {}
        reason = str(error.get("reason") or "filed in failed/ (its NAME.error.json is gone)")
        return Outcome("refused", code=str(error.get("code") or "failed"), reason=reason)
    if found.where == "processed":
        return Outcome(
            "duplicate", code="duplicate", reason=DUPLICATE, duplicate_of=found.duplicate_of
        )
    if found.where == "gone":
        return Outcome("refused", code="gone", reason=GONE)
    if found.handled_in_place:
        return Outcome("refused", code="handled_in_place", reason=IN_PLACE)
    return Outcome("pending", waits=_waits(found, rule, name, settle_s))


def _waits(found: Found, rule: Rule | None, name: str, settle_s: float) -> str:
    if rule is None:
        return "its rule: no rule of that name is configured now (the config was reloaded)"
    if isinstance(rule, PairsRule) and not found.partner_there:
        stem = name.rsplit(".", 1)[0]
        other = "a video" if is_image(Path(name)) else "an image"
        return (
            f"its partner: {other} named {stem}.* in the watch folder (it waits up to"
            f" {rule.pair_timeout:g} s, then is refused as an orphan)"
        )
    return f"the intake, which takes a file once it has stopped changing for {settle_s:g} s"


def to_keep(found: Found, result: Outcome) -> Decided | None:
    """What to keep of an outcome, so that a later answer does not depend on the file staying
    in ``failed/`` or ``processed/`` (moving it on is the user's right)."""
    if found.decided is not None or found.where not in ("failed", "processed"):
        return None
    if found.where == "failed" and found.error is None:  # its reason is being written: later
        return None
    if result.state not in ("refused", "duplicate") or result.code is None:
        return None
    state: Literal["refused", "duplicate"] = "refused" if result.state == "refused" else "duplicate"
    return Decided(state, result.code, result.reason or "", result.duplicate_of)


def combined(outcomes: Sequence[tuple[str, Outcome]]) -> Outcome:
    """The submission's outcome from its inputs' (name, outcome): pending while any file is;
    then refused if any was (each reason, by name); accepted if any job was made; else a
    duplicate. Its jobs are every file's."""
    jobs = tuple(sorted({j for _, o in outcomes for j in o.jobs}))
    pending = [o for _, o in outcomes if o.state == "pending"]
    if pending:
        return Outcome("pending", jobs=jobs, waits=pending[0].waits)
    refused = [(n, o) for n, o in outcomes if o.state == "refused"]
    if refused:
        reason = "; ".join(f"{n}: {o.reason}" for n, o in refused)
        return Outcome("refused", jobs=jobs, code=refused[0][1].code, reason=reason)
    if jobs:
        return Outcome("accepted", jobs=jobs)
    repeats = tuple(sorted({j for _, o in outcomes for j in o.duplicate_of}))
    return Outcome("duplicate", code="duplicate", reason=DUPLICATE, duplicate_of=repeats)
