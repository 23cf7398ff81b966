"""Record the emulator's answers the way `api.record` records a real API's, into
``tests/contract/recordings/`` (run: ``python -m tests.contract.record`` from the repository's
root; the files are checked in). One pass of every kind of call the service makes: a preprocessed
render (a character, a template import, a render, its polls, a cancel), the balance and lists."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from viggle_watch.apikey import ApiKey
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.errors import ApiError
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.inputs import IdsInput, RenderOptions, UploadInput
from viggle_watch.viggle.recording import Recorder

FOLDER = Path(__file__).parent / "recordings"
TEMPLATE = "5f2d9c1e-8a4b-4e7f-9c3d-2b1a0e9f8d7c"


def main() -> None:
    shutil.rmtree(FOLDER, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp, serve(EmulatorConfig(latency_s=0.5)) as emu:
        image = make_character_png(Path(tmp) / "hero.png")
        video = make_driving_mp4(Path(tmp) / "dance.mp4", seconds=1.0)
        client = ViggleClient(emu.url, ApiKey("sk-record-0123456789"), recorder=Recorder(FOLDER))
        client.credits()
        character = client.create_character("hero", image)
        scene = client.import_template(TEMPLATE)
        time.sleep(1.2)
        client.get_character(character.id)
        client.get_scene(scene.id)
        client.list_characters(limit=1)
        client.list_scenes(limit=1)
        created = client.render(IdsInput(character.id, scene.id), RenderOptions())
        client.get_render(created.job_id)
        time.sleep(0.7)
        client.get_render(created.job_id)
        other = client.render(UploadInput(image, video), RenderOptions(model="V4_Preview"))
        client.cancel_render(other.job_id)
        for drift in ("status-html", "status-missing", "numbers-as-strings", "envelope"):
            emu.emulator.set_faults(Faults(drift=drift))  # answers a real API might give
            with contextlib.suppress(ApiError):
                client.get_render(created.job_id)
    print(f"{len(list(FOLDER.glob('*.json')))} recordings in {FOLDER}")


if __name__ == "__main__":
    main()
