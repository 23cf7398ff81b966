"""`deliver: [mp4, poster]` (issue 16, first step): beside NAME.mp4, a representative frame as
NAME.jpg (not a black first frame) and NAME.thumb.jpg (at most 320 px), made in a child
process, written under temporary names and renamed, listed in the sidecar's `deliverables`."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from PIL import Image, ImageStat

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png
from viggle_watch.outputs.documents import Sidecar
from viggle_watch.store.states import State


def test_a_poster_and_its_thumbnail_are_delivered_and_listed(
    stepper_for: Any, workspace: Workspace
) -> None:
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[dance_rule(deliver=["mp4", "poster"])])
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE)
    out = workspace.output
    poster, thumb = out / "hero__dance.jpg", out / "hero__dance.thumb.jpg"
    doc = json.loads((out / "hero__dance.json").read_text())
    Sidecar.model_validate(doc)
    with Image.open(poster) as image:
        assert image.format == "JPEG"
        assert ImageStat.Stat(image.convert("L")).mean[0] > 10  # not a black frame
    with Image.open(thumb) as small:
        assert max(small.size) <= 320
    listed = {d["kind"]: d for d in doc["deliverables"]}
    assert sorted(listed) == ["poster", "thumbnail"]
    assert listed["poster"]["sha256"] == hashlib.sha256(poster.read_bytes()).hexdigest()
    assert (out / "hero__dance.mp4").is_file()
    assert not list(out.glob("*.part"))


def test_without_deliver_only_the_render_is_written(stepper_for: Any, workspace: Workspace) -> None:
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url)
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE)
    doc = json.loads((workspace.output / "hero__dance.json").read_text())
    assert doc["deliverables"] == [] and not list(workspace.output.glob("*.jpg"))


def test_the_poster_is_not_a_black_first_frame(tmp_path: Any) -> None:
    """A render that fades in from black: the poster is a frame with a picture in it."""
    import av

    from viggle_watch.media.poster import make_poster

    video = tmp_path / "fade.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 128, 128, "yuv420p"
        picture = Image.new("RGB", (128, 128), (200, 80, 40))
        for n in range(36):
            frame = picture if n >= 24 else Image.new("RGB", (128, 128))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):  # type: ignore[no-untyped-call]
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    make_poster(video, tmp_path / "p.jpg", tmp_path / "t.jpg")
    with Image.open(tmp_path / "p.jpg") as poster:
        assert ImageStat.Stat(poster.convert("L")).mean[0] > 40
