"""Uploads are streamed from the file (issue 14 §13: a 450 MB driving video took the service to
983 MB): a real client in a child process uploads a valid MP4 padded with a `free` box to
200 MB to the emulator, and its peak memory grows by far less than the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.emulator import Start
from viggle_watch.media.synth import make_character_png, make_driving_mp4

PADDED_MB = 200
CEILING_MB = 48  # what the upload may add to the child's peak: buffers, never the file

CHILD = """
import resource, sys
from pathlib import Path
from viggle_watch.apikey import ApiKey
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.inputs import RenderOptions, UploadInput
url, image, video = sys.argv[1:4]
client = ViggleClient(url, ApiKey("sk-test-key"))
client.credits()  # the client and its imports warmed up before the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
client.render(UploadInput(Path(image), Path(video)), RenderOptions(model="V4_Preview"))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


def pad_with_free_box(video: Path, total_bytes: int) -> None:
    """Append a top-level `free` box: the file stays a valid MP4 of the same length."""
    box = total_bytes - video.stat().st_size  # the box's size counts its 8-byte header
    with video.open("ab") as f:
        f.write(box.to_bytes(4, "big") + b"free")
        f.truncate(total_bytes)  # sparse: the payload is zeros


def test_an_upload_is_streamed_not_held_in_memory(start: Start, tmp_path: Path) -> None:
    emu = start()
    image = make_character_png(tmp_path / "hero.png")
    video = make_driving_mp4(tmp_path / "drive.mp4", seconds=1.0)
    pad_with_free_box(video, PADDED_MB * 1024 * 1024)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, emu.url, str(image), str(video)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    grew_mb = int(done.stdout.strip())
    assert grew_mb < CEILING_MB, f"the upload added {grew_mb} MB to the peak"
    assert len(emu.emulator.stats()["render_submissions"]) == 1
