"""Pure: what a job will cost, and whether the budget lets it go now."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Budget:
    daily_credits: float | None = None  # None: no daily cap
    max_credits_per_job: float | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    go: bool
    reason: str = ""
    permanent: bool = False  # True when waiting cannot help (the job alone is over a cap)


CHARACTER_CREDITS: Final = 1  # what Viggle charges to make a character (preprocessed mode)


def render_credits(output_seconds: float, *, fast: bool) -> int:
    """What a render costs: 1 credit per started second of output, twice that in fast mode."""
    return math.ceil(max(0.0, output_seconds) - 1e-9) * (2 if fast else 1)


def estimate_credits(output_seconds: float, *, fast: bool, new_characters: int) -> int:
    """A job's cost: its render, plus each character that must be made first."""
    return render_credits(output_seconds, fast=fast) + CHARACTER_CREDITS * max(0, new_characters)


def check_budget(
    estimate: float, *, budget: Budget, spent_today: float, balance: float | None
) -> Verdict:
    """Whether a job estimated at ``estimate`` credits may be submitted now."""
    cap = budget.max_credits_per_job
    if cap is not None and estimate > cap:
        return Verdict(
            False,
            f"estimated {estimate:g} credits is over max_credits_per_job {cap:g}",
            permanent=True,
        )
    daily = budget.daily_credits
    if daily is not None and estimate > daily:
        return Verdict(
            False, f"estimated {estimate:g} credits is over daily_credits {daily:g}", permanent=True
        )
    if daily is not None and spent_today + estimate > daily:
        return Verdict(
            False,
            f"daily cap: {spent_today:g} of {daily:g} credits used today, "
            f"this job needs {estimate:g}",
        )
    if balance is not None and balance < estimate:
        return Verdict(False, f"balance {balance:g} credits is short of the {estimate:g} needed")
    return Verdict(True)


def beyond_cap(costs: list[float], *, spent_today: float, daily_cap: float | None) -> list[bool]:
    """For jobs taken in order: which would wait for tomorrow's budget (True) once the ones
    before them have used today's remaining credits. No cap: none waits."""
    if daily_cap is None:
        return [False] * len(costs)
    left, out = daily_cap - spent_today, []
    for cost in costs:
        fits = cost <= left
        left -= cost if fits else 0.0
        out.append(not fits)
    return out
