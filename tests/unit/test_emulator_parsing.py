"""The emulator's pure request parsing: routes, input sets, options, mappings, Range, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from viggle_watch.emulator.cdn import UNSATISFIABLE, ByteRange, requested_range
from viggle_watch.emulator.inputs import RENDER_CONTAINERS, Video, VideoLimits, check_video
from viggle_watch.emulator.render import (
    Options,
    check_bg_color,
    input_set,
    parse_mapping,
    parse_options,
)
from viggle_watch.emulator.replies import Rejection
from viggle_watch.emulator.routes import Unmatched, match
from viggle_watch.media.synth import make_driving_mp4


@pytest.mark.parametrize(
    ("method", "path", "endpoint", "args"),
    [
        ("POST", "/api/render", "render_create", {}),
        ("POST", "/api/render/", "render_create", {}),
        ("GET", "/api/render/job_1", "render_status", {"job_id": "job_1"}),
        ("DELETE", "/api/render/job_1", "render_cancel", {"job_id": "job_1"}),
        ("POST", "/api/characters/preprocess", "character_create", {}),
        ("GET", "/api/characters/c1", "character_get", {"asset_id": "c1"}),
        ("GET", "/cdn/job_1.mask.mp4", "cdn", {"name": "job_1.mask.mp4"}),
    ],
)
def test_routes_match(method: str, path: str, endpoint: str, args: dict[str, str]) -> None:
    """Each method and path finds its endpoint and arguments (a trailing slash is ignored)."""
    found = match(method, path)
    assert not isinstance(found, Unmatched)
    assert (found[0].endpoint, found[1]) == (endpoint, args)


def test_unmatched_routes_are_404_or_405() -> None:
    """An unknown path is 404; a known path with another method is 405 with the allowed ones."""
    assert match("GET", "/api/nope") == Unmatched(())
    assert match("PATCH", "/api/render/j") == Unmatched(("DELETE", "GET"))
    assert match("GET", "/api/render/j/x") == Unmatched(())


def test_stats_keys_leave_arguments_out() -> None:
    """Calls are counted per pattern: ``GET /api/render`` for any job id."""
    found = match("GET", "/api/render/job_1")
    assert not isinstance(found, Unmatched)
    assert found[0].stats_key == "GET /api/render"


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ({"ref_image", "driving_video"}, "upload"),
        ({"ref_image_url", "driving_video_url"}, "url"),
        ({"character_id", "scene_id"}, "ids"),
        ({"scene_id", "character_mapping"}, "multi"),
        ({"ref_image", "driving_video_url"}, "CS-UORC01-002"),
        ({"character_id", "scene_id", "character_mapping"}, "CS-UORC01-002"),
        ({"character_mapping"}, "CS-ORIV-002"),
        ({"driving_video_url"}, "CS-ORIV-001"),
    ],
)
def test_input_sets(present: set[str], expected: str) -> None:
    """Only the documented pairs form an input set; one side alone names what is missing."""
    found = input_set(frozenset(present))
    assert (found.code if isinstance(found, Rejection) else found) == expected


def test_options_defaults_and_alias() -> None:
    """No options: nothing explicit, fast false; inpaint is original; fast is case-blind."""
    assert parse_options({}) == Options(None, None, None, fast=False)
    assert parse_options({"background_mode": "inpaint", "fast": "TRUE"}) == Options(
        None, "original", None, fast=True
    )


@pytest.mark.parametrize(
    ("color", "mode", "ok"),
    [
        (None, "original", True),
        ("0,255,0", "solid", True),
        (" 12 , 0 , 255 ", "solid", True),
        ("0,255,0", "original", False),
        ("0,255", "solid", False),
        ("0,255,300", "solid", False),
        ("green", "solid", False),
    ],
)
def test_bg_color(color: str | None, mode: str, ok: bool) -> None:
    """bg_color is R,G,B in 0-255 and only with solid."""
    assert (check_bg_color(color, mode) is None) == ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"p1": "c1", "p2": "c1"}', {"p1": "c1", "p2": "c1"}),
        ("{", "CS-ORIV-012"),
        ('"p1"', "CS-ORIV-012"),
        ('{"p1": null}', "CS-ORIV-012"),
        ("{}", "CS-UORC01-002"),
    ],
)
def test_character_mapping(text: str, expected: object) -> None:
    """A JSON object of strings; anything else 012; an empty one 002."""
    found = parse_mapping(text)
    assert (found.code if isinstance(found, Rejection) else found) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=10-", ByteRange(10, 100)),
        ("bytes=10-19", ByteRange(10, 20)),
        ("bytes=90-500", ByteRange(90, 100)),
        ("bytes=-10", ByteRange(90, 100)),
        ("bytes=-500", ByteRange(0, 100)),
        ("bytes=100-", UNSATISFIABLE),
        ("bytes=-0", UNSATISFIABLE),
        ("bytes=20-10", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_requested_range(header: str | None, expected: ByteRange | None) -> None:
    """One byte range is honoured; several or malformed ones mean the whole file."""
    assert requested_range(header, 100) == expected


def test_video_limits_map_to_their_codes(tmp_path: Path) -> None:
    """Over the byte limit 005 (checked before decoding); a fitting video is accepted."""
    data = make_driving_mp4(tmp_path / "d.mp4", seconds=1.0).read_bytes()
    too_big = check_video(data, RENDER_CONTAINERS, VideoLimits(max_bytes=len(data) - 1))
    assert isinstance(too_big, Rejection) and too_big.code == "CS-ORIV-005"
    accepted = check_video(data, RENDER_CONTAINERS)
    assert isinstance(accepted, Video) and accepted.probe.duration_s == 1.0
    too_long = check_video(data, RENDER_CONTAINERS, VideoLimits(max_duration_s=0.9))
    assert isinstance(too_long, Rejection) and too_long.code == "CS-ORIV-004"
