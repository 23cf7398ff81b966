"""What the dashboard's pages show, worked out purely (web.views): the 30-day chart, the state
tiles, today's share of the cap, settling files per watch folder, the date filters."""

from __future__ import annotations

from pathlib import Path

from viggle_watch.store.states import State
from viggle_watch.web import views


def test_the_chart_stacks_each_days_credits_by_rule() -> None:
    rows = [
        ("2026-12-07", "portraits", 6.0),
        ("2026-12-07", "dance", 2.0),
        ("2026-12-06", "dance", 4.0),
        ("2026-10-01", "dance", 99.0),  # before the 30 days: not shown
    ]
    chart = views.chart(rows, "2026-12-07")
    assert (chart.first_day, chart.last_day) == ("2026-11-08", "2026-12-07")
    assert chart.peak == 8.0 and chart.total == 12.0
    assert [(r, c) for r, _, c in chart.legend] == [("dance", 6.0), ("portraits", 6.0)]
    today = [b for b in chart.bars if b.title.startswith("2026-12-07")]
    assert sum(b.height for b in today) == views.CHART_H  # the peak day fills the height
    assert {b.x for b in today} == {29 * views.CHART_W / 30 + 1}  # the last slot
    assert len(chart.bars) == 3


def test_an_empty_chart() -> None:
    chart = views.chart([], "2026-12-07")
    assert chart.bars == [] and chart.peak == 0 and chart.total == 0


def test_tiles_cover_every_state_in_reading_order() -> None:
    tiles = views.tiles({"done": 3, "queued": 1})
    assert [n for _, n in tiles][:1] == [1] and dict(tiles)["done"] == 3
    assert {s for s, _ in tiles} == {str(s) for s in State}


def test_todays_share_of_the_cap() -> None:
    assert views.budget_share(30.0, 40.0) == 75
    assert views.budget_share(50.0, 40.0) == 100
    assert views.budget_share(5.0, None) is None


def test_settling_files_are_counted_in_the_deepest_folder_that_holds_them() -> None:
    folders = ["/w/a", "/w/a/inner", "/w/b"]
    files = [Path("/w/a/x.png"), Path("/w/a/inner/y.png"), Path("/elsewhere/z.png")]
    assert views.settling_in(folders, files) == {"/w/a": 1, "/w/a/inner": 1, "/w/b": 0}


def test_dates_in_the_filters_are_whole_utc_days() -> None:
    assert views.epoch_of("2026-12-07") == 1796601600.0
    assert views.epoch_of("2026-12-07", end=True) == 1796601600.0 + 86400


def test_credits_and_sizes_are_written_as_a_person_writes_them() -> None:
    from viggle_watch.config.kinds import size_words

    assert [views.num(v) for v in (12.0, 2.5, 0, None, 1 / 3)] == ["12", "2.5", "0", "—", "0.33"]
    assert [size_words(v) for v in (2 << 30, 3072, 1536 * 1024, 900)] == [
        "2 GiB",
        "3 KiB",
        "1.5 MiB",
        "900 bytes",
    ]
