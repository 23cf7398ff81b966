"""The long-running service never maps PyAV, and maps Pillow only once it checks an image.

Each test runs a fresh interpreter (what `viggle-watch run` starts from) and reads its
``sys.modules``: this test process has PyAV loaded already, so it cannot tell.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from viggle_watch.intake.checks import check_image, check_video
from viggle_watch.media.synth import make_character_png, make_driving_mp4

# What `viggle-watch run` (viggle_watch.cli.main) imports on its way to a service.
RUN_PATH = (
    "viggle_watch.cli.main",
    "viggle_watch.app.service",
    "viggle_watch.app.assembly",
    "viggle_watch.intake.tick",
    "viggle_watch.app.settings",
    "viggle_watch.intake.checks",
    "viggle_watch.media.probe",
    "viggle_watch.watch.observer",
    "viggle_watch.logs",
)
HEAVY = ("av", "PIL", "fastapi", "uvicorn", "apprise")  # the last three: only when configured


def in_fresh_python(code: str) -> object:
    """Run ``code`` in a new interpreter; return the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_run_path_imports_neither_pyav_nor_pillow() -> None:
    """Importing every module `run` needs loads no PyAV and no Pillow — nor FastAPI, uvicorn or
    Apprise, which are imported only when `web` or `notify` is configured."""
    imports = "; ".join(f"import {m}" for m in RUN_PATH)
    code = (
        f"import json, sys; {imports}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert in_fresh_python(code) == []


def test_checks_in_a_fresh_process_match_and_leave_pyav_out(tmp_path: Path) -> None:
    """check_video reads in a child (same answers as here); only check_image loads Pillow."""
    good = make_driving_mp4(tmp_path / "dance.mp4", seconds=1.0, size=(64, 64))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:300])
    text = tmp_path / "text.mp4"
    text.write_text("not a video\n", encoding="utf-8")
    still = make_character_png(tmp_path / "still.mp4")
    videos = [good, cut, text, still]
    expected = [repr(check_video(p, role="scene")) for p in videos]
    code = f"""
import json, sys
from pathlib import Path
from viggle_watch.intake.checks import check_image, check_video
videos = [repr(check_video(Path(p), role="scene")) for p in {[str(p) for p in videos]!r}]
before_image = [m for m in {HEAVY!r} if m in sys.modules]
image = repr(check_image(Path({str(make_character_png(tmp_path / "hero.png"))!r})))
after_image = [m for m in {HEAVY!r} if m in sys.modules]
print(json.dumps([videos, before_image, image, after_image]))
"""
    assert in_fresh_python(code) == [expected, [], repr(None), ["PIL"]]
    assert check_image(tmp_path / "hero.png") is None


def test_status_loads_no_logging_library_http_client_or_decoder() -> None:
    """`status` runs often, by people and scripts (issue 13 §15): what it imports to gather and
    print as JSON holds no structlog, requests, PyAV or Pillow (each costs tens of ms)."""
    code = (
        "import json, sys; import viggle_watch.cli.main, viggle_watch.cli.commands, "
        "viggle_watch.app.report; "
        "print(json.dumps(sorted(m for m in ('structlog', 'requests', 'av', 'PIL', 'rich') "
        "if m in sys.modules)))"
    )
    assert in_fresh_python(code) == []
