"""Deliverables made from a render and its mask (viggle_watch.media.encode): ProRes 4444 with
the mask as alpha, VP9 WebM with alpha, an RGBA PNG sequence — written, then read back with
PyAV and Pillow; masks of another length, rate and size are fitted to the render.

Alpha is compared with the mask's luma by mean absolute difference on 0..255, frame by frame
(the worst frame counts). Measured: 0.07-0.17 for ProRes and PNG, 0.5 for VP9; the tolerances
leave room for H.264's ringing at the mask's edges and the 10/12-bit round trip. An alpha that
ignored the mask (all opaque) would be off by about 200 on these mostly black masks, one left
in limited range (16..235) by about 15, the wrong mask frame by more than 10.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest
from av.video.frame import VideoFrame
from PIL import Image, ImageChops, ImageStat

from viggle_watch.media.encode import KINDS, encode, main
from viggle_watch.media.synth import make_result_mp4, make_video

TOLERANCE = 1.0  # ProRes and PNG: alpha within 1 level of the mask's luma, on average
VP9_TOLERANCE = 2.0  # VP9 codes the alpha lossily too


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def render(tmp_path: Path) -> Path:
    """A 4-second render: 32 frames, 64x64, 8 fps."""
    return write(tmp_path / "render.mp4", make_result_mp4(4))


@pytest.fixture
def mask(tmp_path: Path) -> Path:
    """The render's mask: the same figure, white on black."""
    return write(tmp_path / "mask.mp4", make_result_mp4(4, mask=True))


def decoded(path: Path) -> Iterator[VideoFrame]:
    with av.open(str(path)) as container:
        yield from container.decode(container.streams.video[0])


def lumas(path: Path) -> list[Image.Image]:
    """Every frame of a (mask) video as a greyscale picture, 0 black .. 255 white."""
    return [frame.to_image().convert("L") for frame in decoded(path)]  # type: ignore[no-untyped-call]


def alpha_of(frame: VideoFrame) -> Image.Image:
    """A decoded frame's alpha plane, 8-bit (FFmpeg scales any depth to RGBA's 8 bits)."""
    rgba = frame.reformat(format="rgba")
    plane = rgba.planes[0]
    image = Image.frombuffer(
        "RGBA", (rgba.width, rgba.height), bytes(plane), "raw", "RGBA", plane.line_size, 1
    )
    return image.getchannel("A")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two greyscale pictures, 0..255."""
    return float(ImageStat.Stat(ImageChops.difference(a, b)).mean[0])


def fitted(mask: list[Image.Image], picks: list[int], size: tuple[int, int]) -> list[Image.Image]:
    """The alpha each render frame should have: mask frame ``picks[n]`` at the render's size."""
    return [mask[i].resize(size, Image.Resampling.BILINEAR) for i in picks]


def assert_alpha_matches(
    alphas: list[Image.Image], expected: list[Image.Image], tol: float
) -> None:
    assert len(alphas) == len(expected)
    worst = max(difference(a, e) for a, e in zip(alphas, expected, strict=True))
    assert worst <= tol, f"alpha differs from the mask by {worst:.2f} on average"
    assert min(ImageStat.Stat(a).extrema[0][0] for a in alphas) < 16  # not all opaque


def reencoded_mask(
    source: Path, path: Path, *, picks: list[int], fps: int, size: tuple[int, int]
) -> Path:
    """A mask video of the ``picks`` frames of ``source`` at ``fps`` and ``size`` (H.264;
    the container from the suffix: .mkv records no frame count)."""
    frames = lumas(source)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i in picks:
            picture = frames[i].resize(size, Image.Resampling.BILINEAR).convert("RGB")
            container.mux(stream.encode(VideoFrame.from_image(picture)))  # type: ignore[no-untyped-call]
        container.mux(stream.encode(None))
    return path


def test_prores_4444_carries_the_mask_as_alpha(tmp_path: Path, render: Path, mask: Path) -> None:
    """ap4h, profile 4444, 8 fps, timecode zero, BT.709, 32 frames; alpha equals the mask."""
    out = tmp_path / "hero.mov.part"
    facts = encode("prores4444", render, out, mask=mask, name="hero")
    assert facts == {
        "kind": "prores4444",
        "codec": "prores",
        "pixel_format": "yuva444p10le",
        "frames": 32,
        "width": 64,
        "height": 64,
        "fps": 8.0,
        "alpha": True,
        "mask": {
            "frames": 32,
            "width": 64,
            "height": 64,
            "render_frames": 32,
            "resampled": False,
            "note": "mask matched the render: 32 frames at 64x64",
        },
    }
    with av.open(str(out)) as container:
        assert container.format.name.split(",")[0] == "mov"
        video = container.streams.video[0]
        codec = video.codec_context
        assert (codec.name, codec.codec_tag, codec.profile) == ("prores", "ap4h", "4444")
        assert codec.bits_per_coded_sample == 32  # the sample description's depth: with alpha
        assert (codec.color_primaries, codec.color_trc, codec.colorspace) == (1, 1, 1)  # bt709
        assert video.average_rate == Fraction(8) and video.frames == 32
        # FFmpeg prints the frames field with as many digits as the rate needs: one at 8 fps
        assert video.metadata["timecode"] == "00:00:00:0"
        (tmcd,) = container.streams.data
        assert tmcd.metadata["timecode"] == "00:00:00:0"
        frames = list(container.decode(video))
    # the ProRes decoder gives every 4444 stream 12 bits; it was encoded from 10
    assert {f.format.name for f in frames} == {"yuva444p12le"}
    assert {(f.color_primaries, f.color_trc, f.colorspace) for f in frames} == {(1, 1, 1)}
    expected = fitted(lumas(mask), list(range(32)), (64, 64))
    assert_alpha_matches([alpha_of(f) for f in frames], expected, TOLERANCE)


def test_prores_without_a_mask_has_no_alpha_and_a_25fps_timecode(tmp_path: Path) -> None:
    """yuv444p10le, no alpha plane; at 25 fps the timecode reads 00:00:00:00."""
    render = make_video(tmp_path / "r.mp4", seconds=1.0, fps=25, size=(64, 48))
    out = tmp_path / "out.part"
    facts = encode("prores4444", render, out, mask=None, name="r")
    assert (facts["pixel_format"], facts["alpha"], facts["mask"]) == ("yuv444p10le", False, None)
    assert (facts["frames"], facts["fps"], facts["width"], facts["height"]) == (25, 25.0, 64, 48)
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.codec_tag, video.codec_context.profile) == ("ap4h", "4444")
        assert video.codec_context.bits_per_coded_sample == 24
        assert video.metadata["timecode"] == "00:00:00:00"
        assert video.average_rate == Fraction(25)
        formats = [f.format.name for f in container.decode(video)]
    assert formats == ["yuv444p12le"] * 25


def test_a_mask_at_another_rate_and_size_is_fitted(
    tmp_path: Path, render: Path, mask: Path
) -> None:
    """A 4 fps 48x40 mask under the 8 fps 64x64 render: each mask frame lends its alpha to two
    render frames, resized bilinear; the facts say what differed."""
    half = reencoded_mask(
        mask, tmp_path / "half.mp4", picks=list(range(0, 32, 2)), fps=4, size=(48, 40)
    )
    out = tmp_path / "hero.mov.part"
    facts = encode("prores4444", render, out, mask=half, name="hero")
    assert facts["frames"] == 32
    assert facts["mask"] == {
        "frames": 16,
        "width": 48,
        "height": 40,
        "render_frames": 32,
        "resampled": True,
        "note": (
            "mask had 16 frames at 48x40 for 32 render frames at 64x64: "
            "resampled to the render's timing and resized to the render's size"
        ),
    }
    expected = fitted(lumas(half), [n // 2 for n in range(32)], (64, 64))
    assert_alpha_matches([alpha_of(f) for f in decoded(out)], expected, TOLERANCE)
    # and it is the nearest frame that was taken, not the same-numbered one
    wrong = fitted(lumas(half), [min(n, 15) for n in range(32)], (64, 64))
    assert max(difference(alpha_of(f), w) for f, w in zip(decoded(out), wrong, strict=True)) > 10


def test_a_mask_a_frame_short_repeats_its_last(tmp_path: Path, render: Path, mask: Path) -> None:
    """31 mask frames (in Matroska, which records no count) for 32 render frames: the last
    render frame takes the mask's last frame."""
    short = reencoded_mask(
        mask, tmp_path / "short.mkv", picks=list(range(31)), fps=8, size=(64, 64)
    )
    out = tmp_path / "frames"
    facts = encode("png_sequence", render, out, mask=short, name="hero")
    assert facts["mask"] == {
        "frames": 31,
        "width": 64,
        "height": 64,
        "render_frames": 32,
        "resampled": True,
        "note": (
            "mask had 31 frames at 64x64 for 32 render frames at 64x64: "
            "resampled to the render's timing"
        ),
    }
    alphas = [Image.open(p).getchannel("A") for p in sorted(out.iterdir())]
    assert_alpha_matches(alphas, fitted(lumas(short), [*range(31), 30], (64, 64)), TOLERANCE)


def test_png_sequence_is_rgba_numbered_from_one(tmp_path: Path, render: Path, mask: Path) -> None:
    """NAME_000001.png .. NAME_000032.png, RGBA, the render's picture, the mask's alpha."""
    out = tmp_path / "hero.frames.part"
    facts = encode("png_sequence", render, out, mask=mask, name="hero")
    assert (facts["codec"], facts["pixel_format"], facts["frames"]) == ("png", "rgba", 32)
    assert facts["alpha"] is True
    assert sorted(p.name for p in out.iterdir()) == [f"hero_{n:06}.png" for n in range(1, 33)]
    images = [Image.open(out / f"hero_{n:06}.png") for n in range(1, 33)]
    assert {(i.format, i.mode, i.size) for i in images} == {("PNG", "RGBA", (64, 64))}
    assert_alpha_matches([i.getchannel("A") for i in images], lumas(mask), TOLERANCE)
    pictures = [f.to_image() for f in decoded(render)]  # type: ignore[no-untyped-call]
    # the render's picture: a 64x64 untagged render is read as BT.601, as PyAV reads it
    worst = max(
        difference(i.convert("RGB").convert("L"), p.convert("L"))
        for i, p in zip(images, pictures, strict=True)
    )
    assert worst <= 3


def test_png_sequence_without_a_mask_is_opaque(tmp_path: Path, render: Path) -> None:
    """No mask: RGBA PNGs whose alpha is 255 everywhere."""
    out = tmp_path / "frames"
    facts = encode("png_sequence", render, out, mask=None, name="solo")
    assert (facts["frames"], facts["alpha"], facts["mask"]) == (32, False, None)
    extrema = {Image.open(p).getchannel("A").getextrema() for p in out.iterdir()}
    assert (len(list(out.iterdir())), extrema) == (32, {(255, 255)})


def test_webm_carries_the_mask_as_vp9_alpha(tmp_path: Path, render: Path, mask: Path) -> None:
    """The track says alpha_mode 1; libvpx's decoder (which keeps the alpha) gives yuva420p
    frames whose alpha is the mask."""
    out = tmp_path / "hero.webm.part"
    facts = encode("webm_alpha", render, out, mask=mask, name="hero")
    assert (facts["codec"], facts["pixel_format"], facts["alpha"]) == ("vp9", "yuva420p", True)
    with av.open(str(out)) as container:
        assert container.format.name == "matroska,webm"
        video = container.streams.video[0]
        assert (video.codec_context.name, video.metadata.get("alpha_mode")) == ("vp9", "1")
        libvpx = av.CodecContext.create("libvpx-vp9", "r")
        # demux ends with an empty packet, which drains the decoder
        frames = [f for p in container.demux(video) for f in libvpx.decode(p)]
    assert [f.format.name for f in frames] == ["yuva420p"] * 32
    assert_alpha_matches([alpha_of(f) for f in frames], lumas(mask), VP9_TOLERANCE)


def test_webm_without_a_mask_has_no_alpha(tmp_path: Path, render: Path) -> None:
    """No mask: plain yuv420p VP9, no alpha_mode on the track."""
    out = tmp_path / "solo.part"
    facts = encode("webm_alpha", render, out, mask=None, name="solo")
    assert (facts["pixel_format"], facts["alpha"], facts["frames"]) == ("yuv420p", False, 32)
    with av.open(str(out)) as container:
        assert "alpha_mode" not in container.streams.video[0].metadata
        assert sum(1 for _ in container.decode(video=0)) == 32


def run_child(*args: str | Path) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-m", "viggle_watch.media.encode", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def test_the_child_prints_what_it_wrote(tmp_path: Path, render: Path, mask: Path) -> None:
    """`python -m viggle_watch.media.encode` answers with the facts as JSON, exit 0."""
    code, answer, _ = run_child(
        "prores4444", render, tmp_path / "o.part", "--name", "o", "--mask", mask
    )
    assert (code, answer["kind"], answer["frames"], answer["alpha"]) == (0, "prores4444", 32, True)


def test_a_garbage_file_is_an_error_answer(tmp_path: Path) -> None:
    """Not a video: exit 1 and one JSON line naming the error, no traceback."""
    garbage = write(tmp_path / "render.mp4", bytes(range(256)) * 64)
    for kind in KINDS:
        code, answer, stderr = run_child(kind, garbage, tmp_path / f"{kind}.part", "--name", "x")
        assert code == 1 and "Traceback" not in stderr
        assert list(answer) == ["error"] and str(answer["error"]).startswith("InvalidDataError: ")


def test_a_garbage_mask_is_an_error_answer(tmp_path: Path, render: Path) -> None:
    """A broken mask fails the same way as a broken render."""
    garbage = write(tmp_path / "mask.mp4", b"\x00not a video" * 100)
    code, answer, stderr = run_child(
        "webm_alpha", render, tmp_path / "o.part", "--name", "o", "--mask", garbage
    )
    assert (code, list(answer)) == (1, ["error"]) and "Traceback" not in stderr


def test_bad_arguments_are_an_error_answer(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown kind is refused like any failure: JSON on stdout, exit 1."""
    assert main(["gif", "a.mp4", "b.gif", "--name", "b"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert str(answer["error"]).startswith("ValueError: argument kind: invalid choice: 'gif'")
