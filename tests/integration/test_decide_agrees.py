"""`plan` and the intake make the same decisions (viggle_watch.intake.decide is the only place
that turns a settled file into jobs or a refusal): one folder per rule kind, good and bad files,
planned first, then taken in by the real intake tick; the outcomes must be identical."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.stepping import Stepper
from tests.support.workspace import Workspace
from viggle_watch.app.report import waiting_partners
from viggle_watch.cli.plan import Planner
from viggle_watch.media.synth import make_character_png, make_driving_mp4, make_video
from viggle_watch.store.assets import AssetStore
from viggle_watch.store.jobs import JobStore

Outcome = tuple[str, str, str, str]  # rule, file name, render | refuse | wait, the reason


def rule(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "watch": name, "output": "out", **extra}


def fill(root: Path) -> None:
    """Every rule kind's folder, with what it can use and what it must refuse."""
    for name in ("chars", "scenes", "pairs", "jobs"):
        (root / name).mkdir()
    make_character_png(root / "chars" / "alice.png", seed=1)
    make_character_png(root / "chars" / "tiny.png", size=(16, 16), seed=2)  # under 64x64
    (root / "chars" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    # a preprocessed scenes rule takes WebM (a scene format, not a driving one)
    make_video(root / "scenes" / "moves.webm", seconds=1.0, container_format="webm", codec="libvpx")
    make_driving_mp4(root / "scenes" / "spin.mp4", seconds=1.0, seed=3)
    (root / "scenes" / "garbage.mp4").write_bytes(b"\x00" * 4096)
    make_character_png(root / "pairs" / "bob.png", seed=4)
    make_driving_mp4(root / "pairs" / "bob.mp4", seconds=1.0, seed=5)
    make_character_png(root / "pairs" / "carol.png", seed=6)  # no partner yet
    make_video(root / "pairs" / "dave.webm", seconds=1.0, container_format="webm", codec="libvpx")
    make_character_png(root / "pairs" / "dave.png", seed=7)  # on demand: WebM cannot drive
    make_character_png(root / "jobs" / "erin.png", seed=8)
    make_driving_mp4(root / "jobs" / "wave.mp4", seconds=1.0, seed=9)
    (root / "jobs" / "good.job.yaml").write_text("character: erin.png\nscene: wave.mp4\n")
    (root / "jobs" / "missing.job.yaml").write_text("character: nobody.png\nscene: wave.mp4\n")
    (root / "jobs" / "escape.job.yaml").write_text("character: ../chars/alice.png\n")
    (root / "jobs" / "bad.job.yaml").write_text("character: [unclosed\n")


def planned(st: Stepper) -> set[Outcome]:
    db = st.service.db
    lines = Planner(st.service.config, JobStore(db), AssetStore(db)).plan(st.clock.time())
    return {
        (p.rule, Path(p.source).name, p.action, p.reason if p.action == "refuse" else "")
        for p in lines
    }


def reason_in(error_json: Path) -> str:
    return str(json.loads(error_json.read_text(encoding="utf-8"))["reason"])


def taken_in(st: Stepper, root: Path) -> set[Outcome]:
    made = {
        (j.rule, Path(j.source_path).name, "render", "") for j in st.service.store.latest(limit=100)
    }
    refused = {
        (folder.name, doc.name.removesuffix(".error.json"), "refuse", reason_in(doc))
        for folder in root.iterdir()
        if (folder / "failed").is_dir()
        for doc in (folder / "failed").glob("*.error.json")
    }
    waiting = {
        (name, Path(p).name, "wait", "")
        for name, files in st.service.intake.waiting_partners().items()
        for p in files
    }
    return made | refused | waiting


def test_plan_and_the_intake_decide_alike_for_every_rule_kind(
    stepper_for: Any, workspace: Workspace
) -> None:
    """The same folder gives the same renders, refusals and waits, by plan and by intake."""
    root = workspace.root
    fill(root)
    rules = [
        rule("chars", "characters", scenes=[{"video": "assets/dance.mp4"}]),
        rule("scenes", "scenes", mode="preprocessed", characters=["assets/hero.png"]),
        rule("pairs", "pairs", pair_timeout="10m"),
        rule("jobs", "jobs"),
    ]
    make_character_png(root / "assets" / "hero.png", seed=10)
    st: Stepper = stepper_for("http://127.0.0.1:9", rules=rules)
    before = planned(st)
    st.ingest()
    after = taken_in(st, root)
    assert before == after
    assert {(r, name, action) for r, name, action, _ in after} == {
        ("chars", "alice.png", "render"),
        ("chars", "broken.png", "refuse"),
        ("chars", "tiny.png", "refuse"),
        ("scenes", "moves.webm", "render"),  # a scene may be WebM (plan refused it before)
        ("scenes", "spin.mp4", "render"),
        ("scenes", "garbage.mp4", "refuse"),
        ("pairs", "bob.png", "render"),
        ("pairs", "carol.png", "wait"),
        ("pairs", "dave.png", "wait"),
        ("pairs", "dave.webm", "refuse"),  # on demand the video drives: WebM cannot
        ("jobs", "good.job.yaml", "render"),
        ("jobs", "missing.job.yaml", "refuse"),
        ("jobs", "escape.job.yaml", "refuse"),
        ("jobs", "bad.job.yaml", "refuse"),
    }


def test_status_names_the_same_waiting_partners_as_the_intake(
    stepper_for: Any, workspace: Workspace
) -> None:
    """`status`'s waiting partners come from the same pairing decision the intake makes (it
    decodes nothing, so the files here are all good ones)."""
    root = workspace.root
    fill(root)
    for bad in ("dave.webm", "dave.png"):
        (root / "pairs" / bad).unlink()
    st: Stepper = stepper_for("http://127.0.0.1:9", rules=[rule("pairs", "pairs")])
    shown = waiting_partners(st.service.config)
    st.ingest()
    waiting = st.service.intake.waiting_partners().items()
    taken = {name: sorted(Path(p).name for p in files) for name, files in waiting}
    assert (shown, taken) == ({"pairs": ["carol.png"]},) * 2
