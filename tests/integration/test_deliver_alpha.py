"""`deliver: [mp4, prores4444, webm_alpha, png_sequence]` through the service (issue 16): a
transparent render becomes a keyable ProRes 4444 (the mask as its alpha), VP9 with alpha and
RGBA PNG frames beside NAME.mp4, each listed in the sidecar with its codec, pixel format, frame
count, size and sha256; a mask that differs from the render is fitted and the history says how.
The encoders' own properties are asserted in test_deliver_encode.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import av
from PIL import Image

from tests.integration.test_deliver_encode import reencoded_mask
from tests.support.stepping import Stepper
from tests.support.workspace import Workspace, dance_rule
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png, make_result_mp4
from viggle_watch.outputs.documents import Sidecar
from viggle_watch.render.deliver import Footage, make_parts, place_made
from viggle_watch.store.states import State

EVERY = ["mp4", "prores4444", "webm_alpha", "png_sequence"]


def test_a_transparent_render_is_delivered_keyable_in_every_format(
    stepper_for: Any, workspace: Workspace
) -> None:
    rule = dance_rule(background_mode="transparent", deliver=EVERY)
    with serve(EmulatorConfig(latency_s=0.2)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[rule])
        make_character_png(workspace.watch / "hero.png")
        st.ingest()
        st.run_until(lambda: st.state() == State.DONE)
    out = workspace.output
    doc = json.loads((out / "hero__dance.json").read_text())
    Sidecar.model_validate(doc)
    listed = {d["kind"]: d for d in doc["deliverables"]}
    assert sorted(listed) == ["png_sequence", "prores4444", "webm_alpha"]
    with av.open(str(out / "hero__dance.mp4")) as container:
        frames = sum(1 for _ in container.decode(video=0))
    prores = listed["prores4444"]
    assert (prores["file"], prores["codec"], prores["pixel_format"], prores["alpha"]) == (
        "hero__dance.mov",
        "prores",
        "yuva444p10le",
        True,
    )
    assert prores["frames"] == frames
    mov = out / "hero__dance.mov"
    assert prores["sha256"] == hashlib.sha256(mov.read_bytes()).hexdigest()
    with av.open(str(mov)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.codec_tag == "ap4h"
        assert sum(1 for _ in container.decode(stream)) == frames
    assert listed["webm_alpha"]["codec"] == "vp9" and listed["webm_alpha"]["alpha"] is True
    pngs = sorted((out / "hero__dance").iterdir())
    assert [p.name for p in pngs][:2] == ["hero__dance_000001.png", "hero__dance_000002.png"]
    assert len(pngs) == frames == listed["png_sequence"]["frames"]
    with Image.open(pngs[0]) as first:
        assert first.mode == "RGBA"
    lines = "".join(f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in pngs)
    assert listed["png_sequence"]["sha256"] == hashlib.sha256(lines.encode()).hexdigest()
    assert listed["png_sequence"]["size"] == sum(p.stat().st_size for p in pngs)
    assert not list(out.glob("*.part")) and not list(out.glob("*/*.part"))


def test_a_mask_that_differs_is_fitted_and_said_so(tmp_path: Path) -> None:
    """Viggle's mask a different length and size from its render: fitted, and the note for the
    job's history says by how much."""
    render = tmp_path / "render.mp4"
    render.write_bytes(make_result_mp4(2.0))
    full_mask = tmp_path / "full-mask.mp4"
    full_mask.write_bytes(make_result_mp4(2.0, mask=True))
    mask = reencoded_mask(
        full_mask, tmp_path / "mask.mp4", picks=list(range(12)), fps=6, size=(48, 40)
    )
    out = tmp_path / "out"
    out.mkdir()
    made = make_parts(
        ["mp4", "prores4444"],
        render,
        mask,
        out / "hero.mp4",
        footage=Footage(seconds=2.0, width=64, height=64, frames=16),
        mode=0o644,
        tag="1-test",
    )
    assert list(out.iterdir()) == [out / "hero.mov.1-test.part"]  # made, not yet placed
    place_made(made, out)
    assert [e["kind"] for e in made.entries] == ["prores4444"]
    assert made.notes == [
        "mask had 12 frames at 48x40 for 16 render frames at 64x64: resampled to the "
        "render's timing and resized to the render's size"
    ]
    assert (out / "hero.mov").is_file() and not list(out.glob("*.part"))
