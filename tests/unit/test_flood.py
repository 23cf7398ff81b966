"""No flood (issue 17), pure: `done` gathered into a digest per rule once `digest` has passed;
the same problem not told again within `repeat`, and the ones held back said with the next.
A fake `now`; no sleeps."""

from __future__ import annotations

from viggle_watch.notify.events import Event, service_event
from viggle_watch.notify.flood import Flood

T0 = 1_700_000_000.0


def done(rule: str, credits: float, at: float) -> Event:
    return Event("done", "Render done", "…", at, rule=rule, job_id=1, data={"credits": credits})


def test_without_a_digest_each_done_is_its_own_message() -> None:
    flood = Flood(digest_s=None, repeat_s=3600)
    assert [m.title for m in flood.offer(done("dance", 2, T0), T0)] == ["Render done"]
    assert flood.next_due() is None


def test_done_events_are_gathered_into_one_digest_per_rule() -> None:
    flood = Flood(digest_s=300, repeat_s=3600)
    for i in range(12):
        assert flood.offer(done("dance", 3 if i % 2 else 2.5, T0 + i), T0 + i) == []
    assert flood.offer(done("wave", 1, T0 + 20), T0 + 20) == []
    assert flood.next_due() == T0 + 300
    assert flood.due(T0 + 299) == []
    digest = flood.due(T0 + 300)
    assert [(m.title, m.body, m.event) for m in digest] == [
        ("12 renders done in dance", "12 renders done in rule dance, 33 credits.", "digest"),
        ("1 render done in wave", "1 render done in rule wave, 1 credits.", "digest"),
    ]
    assert flood.next_due() is None and flood.due(T0 + 1000) == []


def test_a_done_after_the_digest_time_sends_the_digest_with_it() -> None:
    flood = Flood(digest_s=60, repeat_s=3600)
    flood.offer(done("dance", 1, T0), T0)
    sent = flood.offer(done("dance", 1, T0 + 61), T0 + 61)
    assert [m.title for m in sent] == ["2 renders done in dance"]


def test_stopping_flushes_the_digest_early() -> None:
    flood = Flood(digest_s=300, repeat_s=3600)
    flood.offer(done("dance", 1, T0), T0)
    assert [m.title for m in flood.due(T0 + 5, flush=True)] == ["1 render done in dance"]


def test_the_same_problem_is_told_once_per_repeat_then_with_a_count() -> None:
    flood = Flood(digest_s=None, repeat_s=3600)

    def missing(at: float) -> Event:
        return service_event("folder", "in/ is missing", "…", at, key="folder:/srv/in")

    assert len(flood.offer(missing(T0), T0)) == 1
    assert flood.offer(missing(T0 + 60), T0 + 60) == []
    assert flood.offer(missing(T0 + 120), T0 + 120) == []
    other = service_event("folder", "out/ is missing", "…", T0 + 130, key="folder:/srv/out")
    assert len(flood.offer(other, T0 + 130)) == 1  # another problem is not held back
    [again] = flood.offer(missing(T0 + 3600), T0 + 3600)
    assert again.body.endswith("(2 more like it held back since)")


def test_job_events_are_never_held_back_as_repeats() -> None:
    flood = Flood(digest_s=None, repeat_s=3600)
    failed = [Event("failed", "Render failed", "…", T0 + i, rule="dance", job_id=i) for i in (1, 2)]
    assert [len(flood.offer(e, e.at)) for e in failed] == [1, 1]
