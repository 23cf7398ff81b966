"""The poster of a render (issue 16, ``deliver: [poster]``): ``NAME.jpg``, a representative frame
— the brightest, busiest of a dozen taken across the video, never a black first frame — and
``NAME.thumb.jpg``, at most ``THUMB_SIDE`` pixels on its longer side.

Run in a short-lived child (``python -m viggle_watch.media.poster VIDEO JPG THUMB``), so the
service never maps PyAV; it writes the two files where it is told (the caller's temp names)
and prints what it wrote as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from viggle_watch.media.child import answer

if TYPE_CHECKING:
    from PIL import Image

SAMPLES: Final = 12
THUMB_SIDE: Final = 320
QUALITY: Final = 90


def score(image: Image.Image) -> float:
    """How much of a picture a frame is: its light and its contrast (0 for black)."""
    from PIL import ImageStat

    stat = ImageStat.Stat(image.convert("L"))
    return float(stat.mean[0] + 2 * stat.stddev[0])


def frames(video: Path, samples: int = SAMPLES) -> list[Image.Image]:
    """Up to ``samples`` frames spread over the whole video (every frame is decoded: a short
    render is a few hundred frames; only the picked ones are kept)."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        step = max(1, total // samples) if total else 1
        picked = []
        for index, frame in enumerate(container.decode(stream)):
            if index % step == 0:
                picked.append(frame.to_image())  # type: ignore[no-untyped-call]
        return picked[: samples + 1]


def make_poster(video: Path, poster: Path, thumb: Path) -> dict[str, object]:
    candidates = frames(video)
    if not candidates:
        raise ValueError("the video has no frame to make a poster of")
    best = max(candidates, key=score)
    rgb = best.convert("RGB")
    rgb.save(poster, format="JPEG", quality=QUALITY)
    small = rgb.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE))
    small.save(thumb, format="JPEG", quality=QUALITY)
    return {"width": rgb.width, "height": rgb.height, "thumb": [small.width, small.height]}


def main(argv: list[str]) -> int:
    video, poster, thumb = (Path(a) for a in argv)
    return answer(lambda: make_poster(video, poster, thumb))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
