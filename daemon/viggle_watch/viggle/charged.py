"""Pure: what Viggle charged for a render, and how we know — never a guess shown as a fact.

The public API documents no cost in a render's answers; a `credits_used` there (or `cost`,
`credits_charged`) is taken as the charge. Without one, the account balance read before the
render was sent and after it finished tells, provided no other paid request was in flight in
between (the job store forgets the first reading when another one starts). Otherwise the charge is
not known: ``None``, said as such (docs/reliability.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

REPORTED: Final = "reported by Viggle"
BALANCE: Final = "from the balance before and after; no other paid request was in flight"
NOT_REPORTED: Final = "not reported"


@dataclass(frozen=True, slots=True)
class Charged:
    credits: float | None
    how: str

    @property
    def detail(self) -> str:
        """For the job's history: ``charged 5 credits (reported by Viggle)``."""
        amount = "an unknown amount" if self.credits is None else f"{self.credits:g} credits"
        return f"charged {amount} ({self.how})"


def charged(reported: float | None, before: float | None, after: float | None) -> Charged:
    """The charge from Viggle's own figure, else from the balance before and after, else
    unknown. A balance that grew (a top-up meanwhile) tells nothing."""
    if reported is not None and reported >= 0:
        return Charged(float(reported), REPORTED)
    if before is not None and after is not None and before >= after:
        return Charged(round(before - after, 6), BALANCE)
    return Charged(None, NOT_REPORTED)
