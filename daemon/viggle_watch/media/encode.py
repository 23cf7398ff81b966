"""Editor-ready files made from a render and its mask (``deliver: [prores4444, webm_alpha,
png_sequence]``): one keyable clip, the mask as its alpha channel.

- ``prores4444``: a QuickTime ``.mov``, ProRes 4444 (``ap4h``, encoder ``prores_aw``: several
  times faster than ``prores_ks`` here), ``yuva444p10le`` with a mask and ``yuv444p10le``
  without, the render's frame rate, BT.709 tags and a ``00:00:00:00`` timecode track — what
  an editor's import expects.
- ``webm_alpha``: VP9 with alpha (``yuva420p``) in WebM, for the web; realtime settings.
- ``png_sequence``: a directory of RGBA PNGs ``NAME_000001.png``... (opaque without a mask).

Run in a short-lived child (``python -m viggle_watch.media.encode KIND VIDEO OUT --name NAME
[--mask MASK]``), so the service never maps PyAV; it writes where it is told (the caller's
temporary names, so the container format is named, never guessed from the suffix) and prints
what it wrote as JSON, with how the mask differed from the render for the job's history.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn, cast

from viggle_watch.media.alpha import CONVERT_THREADS, LIMITED, MATRIX, Layers, open_layers
from viggle_watch.media.child import answer

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.video.codeccontext import VideoCodecContext
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

KINDS: Final = ("prores4444", "webm_alpha", "png_sequence")
TIMECODE: Final = "00:00:00:00"
_BT709: Final = 1  # AVCOL_PRI_BT709, AVCOL_TRC_BT709 and AVCOL_SPC_BT709 are all 1
# libvpx at its fastest: the realtime deadline, the highest cpu-used, rows encoded in
# parallel; a constant quality, since the default 256 kb/s target is a smear at 720p.
_VP9_FAST: Final = {
    "deadline": "realtime",
    "cpu-used": "8",
    "row-mt": "1",
    "crf": "30",
    "b": "0",
    "lag-in-frames": "0",
}


@dataclass(frozen=True, slots=True)
class Written:
    """What a writer made: the codec, its pixel format, whether it carries alpha."""

    codec: str
    pixel_format: str
    alpha: bool


def _threads() -> int:
    return os.cpu_count() or 1


def _tag_bt709(codec: VideoCodecContext) -> None:
    """Say BT.709, limited range: the frames are (media.alpha makes them so)."""
    codec.color_primaries = codec.color_trc = codec.colorspace = _BT709
    codec.color_range = 1  # AVCOL_RANGE_MPEG


def _stamped(frames: Iterable[VideoFrame], fps: Fraction) -> Iterable[VideoFrame]:
    """Constant-rate timestamps (frame n at n / fps, whatever the render's own were) and the
    BT.709 tags on each frame too: ProRes copies the frame's into each frame header."""
    for index, frame in enumerate(frames):
        frame.pts, frame.time_base = index, 1 / fps
        frame.color_primaries = frame.color_trc = frame.colorspace = _BT709
        yield frame


def _mux_all(container: OutputContainer, stream: VideoStream, frames: Iterable[VideoFrame]) -> None:
    for frame in frames:
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _add_video(container: OutputContainer, codec: str, layers: Layers, pix: str) -> VideoStream:
    stream = cast("VideoStream", container.add_stream(codec, rate=layers.fps))
    stream.width, stream.height = layers.size
    stream.pix_fmt = pix
    _tag_bt709(stream.codec_context)
    return stream


def write_prores(layers: Layers, out: Path, name: str) -> Written:
    """ProRes 4444 in a .mov at ``out``; the mask as its alpha channel when there is one."""
    import av

    alpha = layers.mask is not None
    pix = "yuva444p10le" if alpha else "yuv444p10le"
    with av.open(str(out), mode="w", format="mov") as container:
        stream = _add_video(container, "prores_aw", layers, pix)
        stream.codec_context.profile = "4444"  # the profile picks the ap4h tag
        # prores_aw encodes whole frames in parallel: about twice as fast on two cores
        stream.codec_context.thread_type = "FRAME"
        stream.codec_context.thread_count = _threads()
        # the mov muxer writes a tmcd track (and the stream's `timecode` tag) from this
        stream.metadata["timecode"] = TIMECODE
        ten_bit = (_ten_bit(frame, pix) for frame in layers.frames())
        _mux_all(container, stream, _stamped(ten_bit, layers.fps))
    return Written("prores", pix, alpha)


def _ten_bit(frame: VideoFrame, pix: str) -> VideoFrame:
    """4:4:4 10-bit, alpha scaled to 10 bits; no change of matrix or range."""
    return frame.reformat(
        format=pix,
        src_colorspace=MATRIX,
        dst_colorspace=MATRIX,
        src_color_range=LIMITED,
        dst_color_range=LIMITED,
        threads=CONVERT_THREADS,
    )


def write_webm(layers: Layers, out: Path, name: str) -> Written:
    """VP9 in WebM at ``out``; yuva420p (the muxer marks the track ``alpha_mode``) with a
    mask."""
    import av

    alpha = layers.mask is not None
    pix = "yuva420p" if alpha else "yuv420p"
    with av.open(str(out), mode="w", format="webm") as container:
        stream = _add_video(container, "libvpx-vp9", layers, pix)
        stream.codec_context.options = dict(_VP9_FAST)
        stream.codec_context.thread_count = _threads()
        _mux_all(container, stream, _stamped(layers.frames(), layers.fps))
    return Written("vp9", pix, alpha)


def write_pngs(layers: Layers, out: Path, name: str) -> Written:
    """A new directory ``out`` of RGBA PNGs ``{name}_000001.png``... (FFmpeg's PNG encoder:
    smaller files than Pillow's at its default level and twice as fast, on both cores)."""
    import av

    out.mkdir(parents=True)
    codec = av.CodecContext.create("png", "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height = layers.size
    codec.pix_fmt = "rgba"
    codec.time_base = 1 / layers.fps
    codec.thread_type, codec.thread_count = "FRAME", _threads()
    written = 0
    rgba = _stamped((_rgba(frame) for frame in layers.frames()), layers.fps)
    for frame in chain(rgba, [None]):  # None drains the encoder
        for packet in codec.encode(frame):  # in order, one packet a picture
            written += 1
            (out / f"{name}_{written:06}.png").write_bytes(bytes(packet))
    return Written("png", "rgba", layers.mask is not None)


def _rgba(frame: VideoFrame) -> VideoFrame:
    return frame.reformat(
        format="rgba",
        src_colorspace=MATRIX,
        src_color_range=LIMITED,
        dst_color_range="JPEG",
        threads=CONVERT_THREADS,
    )


WRITERS: Final[dict[str, Callable[[Layers, Path, str], Written]]] = {
    "prores4444": write_prores,
    "webm_alpha": write_webm,
    "png_sequence": write_pngs,
}


def encode(kind: str, video: Path, out: Path, *, mask: Path | None, name: str) -> dict[str, object]:
    """Write the ``kind`` deliverable of ``video`` (alpha from ``mask``) to ``out``; return
    JSON-ready facts about what was written and how the mask fitted the render."""
    if kind not in WRITERS:
        raise ValueError(f"unknown deliverable {kind!r}: one of {', '.join(KINDS)}")
    with open_layers(video, mask) as layers:
        written = WRITERS[kind](layers, out, name)
        if not layers.frames_read:
            raise ValueError("the video has no frame")
        width, height = layers.size
        return {
            "kind": kind,
            "codec": written.codec,
            "pixel_format": written.pixel_format,
            "frames": layers.frames_read,
            "width": width,
            "height": height,
            "fps": float(layers.fps),
            "alpha": written.alpha,
            "mask": layers.fit.facts() if layers.fit is not None else None,
        }


class _Parser(argparse.ArgumentParser):
    """Bad arguments are an answer like any failure (JSON, exit 1), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m viggle_watch.media.encode", description=__doc__)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("video", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--mask", type=Path)
    return parser


def main(argv: list[str]) -> int:
    def made() -> dict[str, object]:
        args = _parser().parse_args(argv)
        return encode(args.kind, args.video, args.out, mask=args.mask, name=args.name)

    return answer(made)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
