"""A render and its mask read together, one frame at a time, as pictures ready to encode.

Viggle's transparent mode returns the render and a mask video (white = character, black =
background). :class:`Layers` decodes both in lockstep and yields, for each render frame, a
``yuva420p`` frame whose alpha is the mask (``yuv420p``, no alpha plane, when there is no
mask). The mask is fitted to the render: the frame nearest in time
(:mod:`viggle_watch.media.timing`) and Pillow's bilinear resize when the sizes differ. Frames
come out BT.709, limited range: a render tagged BT.601 or full range is converted; an untagged
one is read the way players read it (BT.709 from 1280 wide or 577 high, else BT.601).

Memory holds a few frames whatever the length. PyAV and Pillow are imported by the functions
that use them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Final

from viggle_watch.media.timing import MaskFit, nearest_pairs, position_s

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

MATRIX: Final = "itu709"  # what the frames are, and what the writers tag
LIMITED: Final = "MPEG"  # FFmpeg's name for limited ("TV") range
# One thread per conversion: the codecs keep both cores busy already, and a conversion cut
# into slices waits for its slowest slice whenever a core is taken.
CONVERT_THREADS: Final = 1
_FULL_RANGE: Final = 2  # AVCOL_RANGE_JPEG
_BT709: Final = 1  # AVCOL_SPC_BT709
_BT601: Final = (5, 6)  # AVCOL_SPC_BT470BG, AVCOL_SPC_SMPTE170M
_LUMA_FIRST: Final = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray"}
)
# limited-range luma (16 black .. 235 white) to 0..255 alpha
_EXPAND: Final = bytes(min(255, max(0, round((v - 16) * 255 / 219))) for v in range(256))
_SAME: Final = bytes(range(256))


def rate(stream: VideoStream) -> Fraction:
    """The stream's frame rate: its average, else FFmpeg's guess."""
    found = stream.average_rate or stream.guessed_rate
    if not found:
        raise ValueError("the video has no frame rate")
    return found


def is_full_range(frame: VideoFrame) -> bool:
    return frame.color_range == _FULL_RANGE or frame.format.name.startswith("yuvj")


def source_matrix(frame: VideoFrame) -> str:
    """The matrix the frame's YUV was made with: its tag, else the players' guess by size."""
    if frame.colorspace == _BT709:
        return MATRIX
    if frame.colorspace in _BT601:
        return "itu601"
    return MATRIX if frame.width >= 1280 or frame.height > 576 else "itu601"


def picture(frame: VideoFrame, *, with_alpha: bool) -> VideoFrame:
    """The render frame as 8-bit 4:2:0 BT.709 limited range, with an opaque alpha plane when
    ``with_alpha`` (PyAV hands the frame back untouched when nothing needs converting)."""
    return frame.reformat(
        format="yuva420p" if with_alpha else "yuv420p",
        src_colorspace=source_matrix(frame),
        dst_colorspace=MATRIX,
        src_color_range="JPEG" if is_full_range(frame) else LIMITED,
        dst_color_range=LIMITED,
        threads=CONVERT_THREADS,
    )


def alpha_of(mask: VideoFrame, size: tuple[int, int]) -> bytes:
    """The mask's luma as 0..255 alpha (white opaque), resized to ``size`` (bilinear), as
    packed rows of ``size[0]`` bytes."""
    from PIL import Image

    if mask.format.name not in _LUMA_FIRST:
        mask = mask.reformat(format="yuv420p", threads=CONVERT_THREADS)
    luma = mask.planes[0]
    # Pillow skips the padding at the end of each line of the plane
    image = Image.frombuffer(
        "L", (mask.width, mask.height), bytes(luma), "raw", "L", luma.line_size, 1
    ).point(_SAME if is_full_range(mask) else _EXPAND)
    if image.size != size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    return image.tobytes()


def put_rows(plane_buffer: memoryview, line_size: int, rows: bytes, width: int) -> None:
    """Write packed ``rows`` of ``width`` bytes into a plane whose lines are ``line_size``."""
    if line_size == width:
        plane_buffer[: len(rows)] = rows
        return
    for y in range(len(rows) // width):
        plane_buffer[y * line_size : y * line_size + width] = rows[y * width : (y + 1) * width]


@dataclass(slots=True)
class Layers:
    """The render (and its mask) open for reading; :meth:`frames` yields each render frame
    once; :attr:`fit` says how the mask compared, once they are all read."""

    render: InputContainer
    mask: InputContainer | None
    frames_read: int = 0
    fit: MaskFit | None = field(default=None)

    @property
    def stream(self) -> VideoStream:
        return self.render.streams.video[0]

    @property
    def fps(self) -> Fraction:
        return rate(self.stream)

    @property
    def size(self) -> tuple[int, int]:
        return self.stream.width, self.stream.height

    def frames(self) -> Iterator[VideoFrame]:
        """Each render frame as ``yuva420p`` with the mask as alpha (``yuv420p`` without)."""
        renders = _positioned(self.render, self.stream, self.fps)
        if self.mask is None:
            for _, (_, frame) in renders:
                self.frames_read += 1
                yield picture(frame, with_alpha=False)
            return
        yield from self._with_mask(renders, self.mask)

    def _with_mask(
        self, renders: Iterator[tuple[float, tuple[int, VideoFrame]]], mask: InputContainer
    ) -> Iterator[VideoFrame]:
        stream = mask.streams.video[0]
        decoded = _Tally()
        masks = _positioned(mask, stream, _rate_or(stream, self.fps), decoded)
        shifted, last, alpha = False, -1, b""
        mask_size = (stream.width, stream.height)
        for (index, frame), (mask_index, mask_frame) in nearest_pairs(renders, masks):
            shifted = shifted or mask_index != index
            if mask_index != last:  # a slower mask lends one frame to several render frames
                last, alpha = mask_index, alpha_of(mask_frame, (frame.width, frame.height))
                mask_size = (mask_frame.width, mask_frame.height)
            layered = picture(frame, with_alpha=True)
            put_rows(memoryview(layered.planes[3]), layered.planes[3].line_size, alpha, frame.width)
            self.frames_read += 1
            yield layered
        if not stream.frames:  # the container does not say: read the rest to count it
            deque(masks, maxlen=0)
        total = stream.frames or decoded.count
        self.fit = MaskFit(total, *mask_size, self.frames_read, *self.size, shifted)


def _rate_or(stream: VideoStream, fallback: Fraction) -> Fraction:
    return stream.average_rate or stream.guessed_rate or fallback


@dataclass(slots=True)
class _Tally:
    count: int = 0


def _positioned(
    container: InputContainer, stream: VideoStream, fps: Fraction, tally: _Tally | None = None
) -> Iterator[tuple[float, tuple[int, VideoFrame]]]:
    """``(position in seconds, (index, frame))`` for each decoded frame of ``stream``."""
    start_s = 0.0
    for index, frame in enumerate(container.decode(stream)):
        if index == 0:
            start_s = frame.time or 0.0
        if tally is not None:
            tally.count = index + 1
        yield position_s(frame.time, start_s, index, float(fps)), (index, frame)


@contextmanager
def open_layers(video: Path, mask: Path | None) -> Iterator[Layers]:
    """Open the render (and the mask) for reading; both are closed on leaving."""
    import av

    with ExitStack() as stack:
        render = stack.enter_context(av.open(str(video)))
        matte = stack.enter_context(av.open(str(mask))) if mask is not None else None
        if not render.streams.video or (matte is not None and not matte.streams.video):
            raise ValueError("no video stream to read")
        yield Layers(render, matte)
