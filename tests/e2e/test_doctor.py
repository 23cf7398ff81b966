"""`viggle-watch doctor` (issue 15): free calls only — the network, the key, the balance, the
list endpoints, each answer's shape against what the client reads — and a redacted report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import CLI, key_env
from tests.support.workspace import KEY, MakeConfig
from viggle_watch.emulator.faults import Faults
from viggle_watch.emulator.server import EmulatorConfig, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.viggle.schemas import Credits
from viggle_watch.viggle.shapes import Shape, shape_of


def doctor(config: Path, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "doctor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=key_env(key),
        check=False,
    )


def test_the_shape_of_an_answer() -> None:
    assert shape_of(Credits, {"balance": "12", "spent": 3}) == Shape(extra=["spent"])
    assert shape_of(Credits, {"total_used": 3}) == Shape(missing=["balance"], readable=False)
    assert shape_of(Credits, {"balance": "lots"}).mistyped == ["balance"]
    assert not shape_of(Credits, "<html>").readable


def test_against_the_emulator_everything_is_there(make_config: MakeConfig, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with serve(EmulatorConfig(keys=frozenset({KEY}))) as emu:
        config = make_config(emu.url)
        done = doctor(config.source, "--report", str(report))
        paid = emu.emulator.stats()["credits_spent"]
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("ok   dns", "ok   connect", "ok   key: accepted", "balance 10000 credits"):
        assert line in done.stdout
    written = report.read_text()
    assert json.loads(written)["ok"] is True
    assert KEY not in written and KEY not in done.stdout
    assert paid == 0


@pytest.mark.parametrize(
    ("faults", "said"),
    [
        (Faults(drift="credits-missing"), "FAIL balance"),
        (Faults(refuse_keys=True), "FAIL key: refused by Viggle"),
    ],
)
def test_what_the_client_cannot_use_fails_with_why(
    make_config: MakeConfig, faults: Faults, said: str
) -> None:
    with serve(EmulatorConfig(faults=faults)) as emu:
        done = doctor(make_config(emu.url).source)
    assert (done.returncode, said in done.stdout) == (1, True), done.stdout


def test_nothing_listening_is_said(make_config: MakeConfig) -> None:
    done = doctor(make_config("http://127.0.0.1:9").source, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert [(c["name"], c["ok"]) for c in report["checks"]] == [("dns", True), ("connect", False)]


def test_one_real_render_asks_first_holds_to_its_cap_and_reports_the_charge(
    make_config: MakeConfig, tmp_path: Path
) -> None:
    image = make_character_png(tmp_path / "hero.png")
    video = make_driving_mp4(tmp_path / "drive.mp4", seconds=2.0)
    files = ["--render", "--image", str(image), "--video", str(video)]
    report = tmp_path / "render.json"
    with serve(EmulatorConfig(latency_s=0.5, keys=frozenset({KEY}))) as emu:
        config = make_config(emu.url).source
        over = doctor(config, *files, "--max-credits", "1")
        unasked = doctor(config, *files, "--max-credits", "5")
        sent_before = len(emu.emulator.stats()["render_submissions"])
        done = doctor(config, *files, "--max-credits", "5", "--yes", "--report", str(report))
        sent = len(emu.emulator.stats()["render_submissions"])
    assert over.returncode == 2 and "over --max-credits 1" in over.stderr
    assert unasked.returncode == 2 and "--yes" in unasked.stderr
    assert (sent_before, sent, done.returncode) == (0, 1, 0), done.stdout + done.stderr
    assert "charged 2 credits" in done.stdout and "a playable video" in done.stdout
    assert "answer POST /api/render" in done.stdout
    assert KEY not in report.read_text() and KEY not in done.stdout
