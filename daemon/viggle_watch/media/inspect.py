"""What a downloaded render holds, measured for the acceptance gate (issue 16): decode every
frame, and take each frame's light (a 32x32 grey copy: its mean and brightest point), how much
it differs from the one before (a frozen video does not), and for a mask how much of the
picture it covers. The verdict is not made here: ``render.acceptance.judge`` reads these
figures (one place for the decision; this module only measures).

Run in a short-lived child (``python -m viggle_watch.media.inspect VIDEO [MASK]``), so the
service never maps PyAV; it prints one JSON document per file: ``{"video": {...}, "mask":
{...} or null}``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from viggle_watch.media.child import answer

if TYPE_CHECKING:
    from av.video.frame import VideoFrame

SIDE: Final = 32  # frames are measured on a SIDExSIDE grey copy: cheap, and enough for light
COVERED: Final = 128  # a mask pixel at least this bright is the character


def _grey(frame: VideoFrame) -> bytes:
    """The frame as SIDExSIDE grey bytes (full range), row padding removed."""
    small = frame.reformat(width=SIDE, height=SIDE, format="gray")
    plane = small.planes[0]
    raw = bytes(plane)
    step = plane.line_size
    return b"".join(raw[row * step : row * step + SIDE] for row in range(SIDE))


def measure(path: Path) -> dict[str, Any]:
    """Figures of one video: frames decoded (and declared), any decoding error, duration, size,
    frame rate, per-frame light, the largest frame-to-frame change and mask coverage."""
    import av

    found: dict[str, Any] = {"frames": 0, "error": None}
    means: list[float] = []
    cover: list[float] = []
    brightest, change = 0, 0.0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                found["error"] = "no video stream"
                return found
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            found |= {
                "declared_frames": stream.frames or None,
                "width": stream.codec_context.width,
                "height": stream.codec_context.height,
                "fps": float(rate) if rate else None,
            }
            previous: bytes | None = None
            for frame in container.decode(stream):
                grey = _grey(frame)
                means.append(sum(grey) / len(grey))
                brightest = max(brightest, max(grey))
                cover.append(sum(1 for v in grey if v >= COVERED) / len(grey))
                if previous is not None:
                    diff = sum(abs(a - b) for a, b in zip(grey, previous, strict=True))
                    change = max(change, diff / len(grey))
                previous = grey
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        found["error"] = f"{type(exc).__name__}: {exc}"  # frames before it are counted
    frames = len(means)
    fps = found.get("fps")
    found |= {
        "frames": frames,
        "duration_s": round(frames / fps, 3) if fps and frames else 0.0,
        "brightest": brightest,
        "mean_light": round(sum(means) / frames, 2) if frames else 0.0,
        "max_change": round(change, 3),
        "coverage_min": round(min(cover), 4) if cover else 0.0,
        "coverage_max": round(max(cover), 4) if cover else 0.0,
    }
    return found


def main(argv: list[str]) -> int:
    def both() -> dict[str, Any]:
        return {
            "video": measure(Path(argv[0])),
            "mask": measure(Path(argv[1])) if len(argv) > 1 else None,
        }

    return answer(both)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
