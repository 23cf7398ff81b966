"""What the dashboard's pages show, worked out purely from the status and the store's rows
(issue 18): the 30-day credits chart, the order of the state tiles, the progress of renders in
flight. Templates only lay these out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from viggle_watch.rules.pairing import IMAGE_SUFFIXES, MANIFEST_SUFFIX, VIDEO_SUFFIXES
from viggle_watch.store.states import State

# the order a person reads a queue in: what moves, what waits, what ended, what needs them
STATE_ORDER: Final = (
    State.QUEUED,
    State.WAITING_BUDGET,
    State.PREPARING,
    State.SUBMITTING,
    State.RENDERING,
    State.DOWNLOADING,
    State.DONE,
    State.UNCERTAIN,
    State.REVIEW,
    State.FAILED,
    State.CANCELLED,
)
MOVING: Final = (State.PREPARING, State.SUBMITTING, State.RENDERING, State.DOWNLOADING)
PALETTE: Final = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")
CHART_DAYS: Final = 30
_IMAGES = ", ".join(sorted(IMAGE_SUFFIXES))
_VIDEOS = ", ".join(sorted(VIDEO_SUFFIXES))
DROP_HINTS: Final = {  # what each kind of rule takes (rules.pairing; docs/rule-kinds.md)
    "characters": f"Takes character images ({_IMAGES}): each performs the rule's scenes.",
    "scenes": f"Takes driving videos ({_VIDEOS}): the rule's characters perform each.",
    "pairs": "Takes an image and a video with the same name (hero.png with hero.mp4).",
    "jobs": f"Takes a manifest (NAME{MANIFEST_SUFFIX}) with the files it names.",
}
CHART_W, CHART_H = 600, 140


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str  # "2026-12-07 · portraits: 12 credits"


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    legend: list[tuple[str, str, float]]  # (rule, colour, credits in the 30 days)
    peak: float  # the highest day's credits (the top of the scale)
    first_day: str
    last_day: str
    total: float


def days_back(today: str, days: int = CHART_DAYS) -> list[str]:
    """The ``days`` UTC days ending with ``today``, oldest first."""
    end = date.fromisoformat(today)
    return [(end - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def chart(rows: list[tuple[str, str, float]], today: str, days: int = CHART_DAYS) -> Chart:
    """A stacked bar per day, a colour per rule, from ``spend_by_day``'s rows."""
    span = days_back(today, days)
    per_day: dict[str, dict[str, float]] = defaultdict(dict)
    per_rule: dict[str, float] = defaultdict(float)
    for day, rule, credits in rows:
        if day in span and credits > 0:
            per_day[day][rule] = per_day[day].get(rule, 0.0) + credits
            per_rule[rule] += credits
    rules = sorted(per_rule, key=lambda r: (-per_rule[r], r))
    colour = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(rules)}
    peak = max((sum(d.values()) for d in per_day.values()), default=0.0)
    slot = CHART_W / days
    bars: list[Bar] = []
    for i, day in enumerate(span):
        y = float(CHART_H)
        for rule in rules:
            credits = per_day[day].get(rule, 0.0) if day in per_day else 0.0
            if credits <= 0:
                continue
            height = CHART_H * credits / peak
            y -= height
            title = f"{day} · {rule}: {credits:g} credits"
            bars.append(Bar(i * slot + 1, y, slot - 2, height, colour[rule], title))
    legend = [(r, colour[r], round(per_rule[r], 2)) for r in rules]
    return Chart(bars, legend, peak, span[0], span[-1], round(sum(per_rule.values()), 2))


def tiles(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Each state with its count, in reading order (states with none still show, as 0)."""
    return [(str(state), counts.get(str(state), 0)) for state in STATE_ORDER]


def budget_share(today: float | None, cap: float | None) -> int | None:
    """Today's credits as a percentage of the daily cap (None without a cap)."""
    if not cap or today is None:
        return None
    return min(100, round(100 * today / cap))


def settling_in(folders: list[str], files: list[Path]) -> dict[str, int]:
    """How many of the settling ``files`` are in each watch folder (the deepest that holds
    each: a folder may be inside another rule's)."""
    counts = dict.fromkeys(folders, 0)
    deepest_first = sorted(folders, key=lambda f: -len(Path(f).parts))
    for file in files:
        home = next((f for f in deepest_first if file.is_relative_to(f)), None)
        if home is not None:
            counts[home] += 1
    return counts


def pause_of(held: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The pause flag from `status --json`'s ``held`` (None when not paused)."""
    return next((h for h in held if h.get("flag") == "paused"), None)


def epoch_of(day: str, *, end: bool = False) -> float:
    """``YYYY-MM-DD`` (UTC) as epoch seconds: its start, or with ``end`` the next day's start
    (so ``until`` takes the whole day in)."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    return (start + timedelta(days=1 if end else 0)).timestamp()


def num(value: float | int | None) -> str:
    """A number of credits as a person writes it: 12, 2.5, 0 (never 12.0)."""
    if value is None:
        return "—"
    return f"{round(float(value), 2):g}"
