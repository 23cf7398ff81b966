"""Faults.broken_output: the emulator's CDN serves spoiled render results on demand, whole and
with honest headers, as if Viggle had stored a broken render (for the acceptance gate's tests)."""

from __future__ import annotations

import av
import pytest
import requests

from tests.support.emulator import (
    TIMEOUT_S,
    FakeClock,
    Json,
    Media,
    Start,
    completed,
    error_code,
    render,
    stats,
)
from tests.support.frames import brightest, darkest, grey_frames, largest_change
from viggle_watch.emulator.faults import BROKEN_OUTPUTS
from viggle_watch.emulator.server import Faults, RunningEmulator
from viggle_watch.media.synth import RESULT_SIZE, make_result_mp4

FRAMES = 16  # the harness's driving video lasts 2 s; results run at 8 fps
BLACK = 16  # no pixel of a black frame (or an empty mask) is brighter than this grey level


def set_faults(emu: RunningEmulator, **fields: object) -> requests.Response:
    """POST /_sim/faults with ``fields``."""
    return requests.post(f"{emu.url}/_sim/faults", json=fields, timeout=TIMEOUT_S)


def finished(emu: RunningEmulator, clock: FakeClock, media: Media, *, transparent: bool) -> Json:
    """The final status of a 2 s render (transparent or not)."""
    form = {"background_mode": "transparent"} if transparent else {}
    return completed(emu, clock, render(emu, media, **form).json()["job_id"])


def fetch(url: str) -> bytes:
    """GET a result URL; assert a complete 200 whose Content-Length is what arrived."""
    response = requests.get(url, timeout=TIMEOUT_S)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "video/mp4")
    assert response.headers["Content-Length"] == str(len(response.content))
    return response.content


def served(
    emu: RunningEmulator, clock: FakeClock, media: Media, broken: str
) -> tuple[bytes, bytes]:
    """``(video, mask)`` of a transparent render downloaded while ``broken`` is in force."""
    result = finished(emu, clock, media, transparent=True)
    assert set_faults(emu, broken_output=broken).status_code == 200
    return fetch(result["cdn_url"]), fetch(result["mask_cdn_url"])


def test_none_serves_the_good_result(emu: RunningEmulator, clock: FakeClock, media: Media) -> None:
    """The default serves make_result_mp4's bytes, the same before and after a broken spell,
    and counts no fault."""
    result = finished(emu, clock, media, transparent=True)
    urls = (result["cdn_url"], result["mask_cdn_url"])
    good = (make_result_mp4(2.0), make_result_mp4(2.0, mask=True))
    assert tuple(map(fetch, urls)) == good
    set_faults(emu, broken_output="black")
    assert fetch(urls[0]) != good[0]
    set_faults(emu, broken_output="none")
    assert tuple(map(fetch, urls)) == good
    assert stats(emu)["faults_injected"] == {"broken_output:black": 1}


def test_truncated_is_a_whole_transfer_of_a_cut_file(
    emu: RunningEmulator, clock: FakeClock, media: Media
) -> None:
    """truncated: half the good bytes, Content-Length saying so (fetch checks it); PyAV cannot
    read either file; a Range request is answered against the cut size."""
    video, mask = served(emu, clock, media, "truncated")
    for got, good in ((video, make_result_mp4(2.0)), (mask, make_result_mp4(2.0, mask=True))):
        assert got == good[: len(good) // 2]
        with pytest.raises(av.error.FFmpegError):
            grey_frames(got)
    url = finished(emu, clock, media, transparent=False)["cdn_url"]
    ranged = requests.get(url, headers={"Range": "bytes=10-"}, timeout=TIMEOUT_S)
    size = len(video)
    assert (ranged.status_code, ranged.headers["Content-Range"]) == (
        206,
        f"bytes 10-{size - 1}/{size}",
    )
    assert stats(emu)["faults_injected"] == {"broken_output:truncated": 3}


def test_black_render_keeps_its_length_size_and_mask(
    emu: RunningEmulator, clock: FakeClock, media: Media
) -> None:
    """black: every frame black, as many frames of the same size; the mask is the good one."""
    video, mask = served(emu, clock, media, "black")
    frames = grey_frames(video)
    assert (len(frames), frames[0].size) == (FRAMES, RESULT_SIZE)
    assert max(map(brightest, frames)) <= BLACK
    assert mask == make_result_mp4(2.0, mask=True)
    assert stats(emu)["faults_injected"] == {"broken_output:black": 1}


def test_frozen_render_repeats_its_first_frame(
    emu: RunningEmulator, clock: FakeClock, media: Media
) -> None:
    """frozen: the full length, no two frames in a row differ; the mask is frozen likewise."""
    video, mask = served(emu, clock, media, "frozen")
    for frames in (grey_frames(video), grey_frames(mask)):
        assert len(frames) == FRAMES
        assert largest_change(frames) < 0.5
    good = grey_frames(make_result_mp4(2.0))
    assert largest_change(good) > 2.0


def test_short_render_and_mask_last_half_as_long(
    emu: RunningEmulator, clock: FakeClock, media: Media
) -> None:
    """short: the render and its mask have half the frames asked for."""
    video, mask = served(emu, clock, media, "short")
    assert (len(grey_frames(video)), len(grey_frames(mask))) == (FRAMES // 2, FRAMES // 2)
    assert stats(emu)["faults_injected"] == {"broken_output:short": 2}


@pytest.mark.parametrize("broken", ["empty_mask", "full_mask"])
def test_mask_kinds_spoil_only_the_mask(
    emu: RunningEmulator, clock: FakeClock, media: Media, broken: str
) -> None:
    """empty_mask / full_mask: the mask is black / white in every frame; the render is good."""
    video, mask = served(emu, clock, media, broken)
    assert video == make_result_mp4(2.0)
    frames = grey_frames(mask)
    assert len(frames) == FRAMES
    if broken == "empty_mask":
        assert max(map(brightest, frames)) <= BLACK
    else:
        assert min(map(darkest, frames)) >= 255 - BLACK
    assert stats(emu)["faults_injected"] == {f"broken_output:{broken}": 1}


@pytest.mark.parametrize("broken", ["empty_mask", "full_mask"])
def test_mask_kinds_leave_an_opaque_render_alone(
    emu: RunningEmulator, clock: FakeClock, media: Media, broken: str
) -> None:
    """A render without a mask is served good under a mask kind, and no fault is counted."""
    url = finished(emu, clock, media, transparent=False)["cdn_url"]
    set_faults(emu, broken_output=broken)
    assert fetch(url) == make_result_mp4(2.0)
    assert stats(emu)["faults_injected"] == {}


def test_broken_output_set_at_start(start: Start, clock: FakeClock, media: Media) -> None:
    """Faults(broken_output=...) in the EmulatorConfig is in force from the first download."""
    emu = start(faults=Faults(broken_output="black"))
    video = fetch(finished(emu, clock, media, transparent=False)["cdn_url"])
    assert max(map(brightest, grey_frames(video))) <= BLACK


def test_sim_faults_takes_every_kind_and_refuses_others(emu: RunningEmulator) -> None:
    """Each of BROKEN_OUTPUTS is accepted; any other value (or not a string) is 400 naming the
    allowed ones, and changes nothing."""
    for kind in BROKEN_OUTPUTS:
        assert set_faults(emu, broken_output=kind).json()["broken_output"] == kind
    for bad in ("melted", 1, None):
        response = set_faults(emu, broken_output=bad)
        assert error_code(response) == (400, "CS-UORC01-002")
        assert "truncated, black, frozen" in response.json()["detail"]["message"]
    assert emu.emulator.faults == Faults(broken_output=BROKEN_OUTPUTS[-1])
