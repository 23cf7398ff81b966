"""What Viggle charged for a render (issue 13 §10): its own figure, else the balance
difference when the render was the only paid request in flight, else not known — never a guess
shown as a fact."""

from __future__ import annotations

import pytest

from viggle_watch.viggle.charged import BALANCE, NOT_REPORTED, REPORTED, Charged, charged
from viggle_watch.viggle.schemas import RenderStatus


@pytest.mark.parametrize(
    ("reported", "before", "after", "expected"),
    [
        (7.0, 100.0, 90.0, Charged(7.0, REPORTED)),  # Viggle's own figure wins
        (None, 100.0, 93.0, Charged(7.0, BALANCE)),
        (None, 100.0, 100.0, Charged(0.0, BALANCE)),  # refunded, or free
        (None, 100.0, 120.0, Charged(None, NOT_REPORTED)),  # a top-up meanwhile: tells nothing
        (None, None, 93.0, Charged(None, NOT_REPORTED)),  # another paid request was in flight
        (None, 100.0, None, Charged(None, NOT_REPORTED)),  # the balance could not be read after
        (-1.0, None, None, Charged(None, NOT_REPORTED)),  # nonsense from the API is not a fact
    ],
)
def test_the_charge_and_how_it_is_known(
    reported: float | None, before: float | None, after: float | None, expected: Charged
) -> None:
    assert charged(reported, before, after) == expected


@pytest.mark.parametrize("name", ["credits_used", "credits_charged", "cost"])
def test_a_render_answer_carrying_a_cost_is_read(name: str) -> None:
    status = RenderStatus.model_validate({"status": "complete", name: "12"})
    assert status.credits_used == 12.0
    assert RenderStatus.model_validate({"status": "complete"}).credits_used is None
