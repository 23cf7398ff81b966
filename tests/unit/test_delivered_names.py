"""What `deliver:` adds beside NAME.mp4, named in one place (``outputs.naming``): `plan` lists
it with the video, `jobs show` (and its JSON) lists the files that are there — both showed the
video alone, so a poster looked like a stray file."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from tests.support.views import job_detail_doc
from viggle_watch.app.report import delivered
from viggle_watch.cli.config import _outputs
from viggle_watch.cli.plan import Planned
from viggle_watch.cli.status import print_job_detail
from viggle_watch.outputs.naming import delivered_beside


def test_each_kind_names_its_files_in_the_order_made() -> None:
    video = Path("/out/alice__dance.mp4")
    names = [p.name for p in delivered_beside(video, ["png_sequence", "mp4", "poster"])]
    assert names == ["alice__dance.jpg", "alice__dance.thumb.jpg", "alice__dance"]
    assert delivered_beside(video, ["mp4"]) == []


def test_plan_shows_them_beside_the_video() -> None:
    line = Planned(
        "dance",
        "/in/alice.png",
        "render",
        "alice__dance.mp4",
        also=("alice__dance.jpg", "alice__dance.thumb.jpg", "alice__dance"),
    )
    assert _outputs(line) == "alice__dance.mp4 + .jpg + .thumb.jpg + alice__dance/"


def test_jobs_show_lists_the_ones_that_are_there(tmp_path: Path) -> None:
    video = tmp_path / "alice__dance.mp4"
    for path in (video, video.with_suffix(".jpg"), video.with_suffix(".thumb.jpg")):
        path.write_bytes(b"x")
    (tmp_path / "alice__dance.json").write_text("{}")  # the sidecar is not a deliverable
    found = delivered(str(video))
    assert found == [str(video.with_suffix(".jpg")), str(video.with_suffix(".thumb.jpg"))]
    assert delivered(None) == []
    out = io.StringIO()
    detail = job_detail_doc(output=str(video), delivered=found)
    print_job_detail(detail, Console(file=out, width=200))
    assert "  also       alice__dance.jpg, alice__dance.thumb.jpg" in out.getvalue()
