"""Every rule kind with real files: pairs (late and missing partners), scenes, job folders and
manifests (multi-person, escapes, symlinks), temp-name copies, polling, collisions, leave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.stepping import Stepper
from tests.support.waits import wait_for
from tests.support.workspace import KEY, MakeConfig, Workspace, drop
from viggle_watch.apikey import ApiKey
from viggle_watch.app.assembly import build_service
from viggle_watch.app.report import gather
from viggle_watch.emulator.server import EmulatorConfig, RunningEmulator, serve
from viggle_watch.media.synth import make_character_png, make_driving_mp4
from viggle_watch.store.states import State

DUO = "770e8400-e29b-41d4-a716-446655440000"


def rule(kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": kind, "kind": kind, "watch": "in", "output": "out", **extra}


def error_of(workspace: Workspace, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (workspace.watch / "failed" / f"{name}.error.json").read_text(encoding="utf-8")
    )
    return doc


def test_a_pair_waits_for_its_late_partner(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """alice.png waits; alice.mp4 arrives later; one job renders the image with that video."""
    st: Stepper = stepper_for(emulator.url, rules=[rule("pairs", pair_timeout="10m")])
    make_character_png(workspace.watch / "alice.png", seed=1)
    assert st.ingest() == 0
    assert st.service.intake.waiting_partners() == {"pairs": [str(workspace.watch / "alice.png")]}
    st.clock.advance(300)
    make_driving_mp4(workspace.watch / "alice.mp4", seconds=1.0, seed=2)
    assert st.ingest() == 1
    st.run_until(lambda: st.state() == State.DONE, seconds=0.2)
    job = st.service.store.get(1)
    assert job is not None and job.spec.scene is not None
    assert (Path(job.spec.character.path).name, Path(job.spec.scene.path).name) == (
        "alice.png",
        "alice.mp4",
    )
    assert sorted(p.name for p in (workspace.watch / "processed").iterdir()) == [
        "alice.mp4",
        "alice.png",
    ]


def test_a_pair_without_partner_becomes_an_orphan(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """After pair_timeout the lone file goes to failed/ with a reason; nothing is rendered."""
    st: Stepper = stepper_for(emulator.url, rules=[rule("pairs", pair_timeout="60s")])
    make_driving_mp4(workspace.watch / "bob.mp4", seconds=1.0)
    st.ingest()
    st.clock.advance(61)
    st.service.intake.tick(st.clock.time())
    assert error_of(workspace, "bob.mp4")["code"] == "orphan"
    assert st.service.store.latest() == []
    assert emulator.emulator.stats()["calls"] == {}


def test_a_scenes_rule_has_every_character_perform_the_video(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """One dropped video x two fixed characters = two jobs, the video filed once both end."""
    chars = []
    for i in range(2):
        path = workspace.root / "assets" / f"hero{i}.png"
        make_character_png(path, seed=10 + i)
        chars.append(str(path))
    st: Stepper = stepper_for(emulator.url, rules=[rule("scenes", characters=chars)])
    make_driving_mp4(workspace.watch / "moves.mp4", seconds=1.0, seed=3)
    assert st.ingest() == 2
    st.run_until(lambda: st.service.store.counts()[State.DONE] == 2, seconds=0.2)
    assert sorted(p.name for p in workspace.output.glob("*.mp4")) == [
        "hero0__moves.mp4",
        "hero1__moves.mp4",
    ]
    assert (workspace.watch / "processed" / "moves.mp4").exists()


def test_a_job_folder_with_a_multi_person_manifest(stepper_for: Any, workspace: Workspace) -> None:
    """A folder with two images and a job.yaml mapping them onto a duo template, READY."""
    folder = workspace.watch / "duo-1"
    folder.mkdir()
    make_character_png(folder / "alice.png", seed=1)
    make_character_png(folder / "bob.png", seed=2)
    (folder / "job.yaml").write_text(
        f"template: {DUO}\nmapping:\n  person_a1b2c3d4: alice.png\n"
        "  person_e5f6a7b8: bob.png\noutput: duo-final\n",
        encoding="utf-8",
    )
    (folder / "READY").write_text("", encoding="utf-8")
    with serve(EmulatorConfig(latency_s=0.2, asset_delay_s=0.0)) as emu:
        st: Stepper = stepper_for(emu.url, rules=[rule("jobs", mode="preprocessed")])
        st.ingest()  # READY: taken at once, without waiting to settle
        assert len(st.service.store.latest()) == 1
        st.run_until(lambda: st.state() == State.DONE, seconds=0.2)
        submission = emu.emulator.stats()["render_submissions"][0]
    assert sorted(submission["character_mapping"] or {}) == ["person_a1b2c3d4", "person_e5f6a7b8"]
    assert (workspace.output / "duo-final.mp4").exists()
    assert (workspace.watch / "processed" / "duo-1" / "job.yaml").exists()


def test_a_manifest_that_escapes_its_folder_is_refused(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """`../` or an absolute path in a manifest: refused with a reason, no API call."""
    secret = workspace.root / "secret.png"
    make_character_png(secret)
    (workspace.watch / "sneaky.job.yaml").write_text(
        "character: ../secret.png\nscene: ../assets/dance.mp4\n", encoding="utf-8"
    )
    (workspace.watch / "abs.job.yaml").write_text(
        f"character: {secret}\nscene: x.mp4\n", encoding="utf-8"
    )
    st: Stepper = stepper_for(emulator.url, rules=[rule("jobs")])
    st.ingest()
    for name in ("sneaky.job.yaml", "abs.job.yaml"):
        error = error_of(workspace, name)
        assert (error["code"], "outside the watch folder" in error["reason"]) == (
            "bad_manifest",
            True,
        )
    assert emulator.emulator.stats()["calls"] == {}


def test_a_symlink_out_of_the_root_is_never_followed(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """A symlink dropped in the folder, or named by a manifest, is never sent."""
    outside = workspace.root / "outside.png"
    make_character_png(outside)
    (workspace.watch / "link.png").symlink_to(outside)
    make_driving_mp4(workspace.watch / "v.mp4", seconds=1.0)
    (workspace.watch / "m.job.yaml").write_text(
        "character: link.png\nscene: v.mp4\n", encoding="utf-8"
    )
    st: Stepper = stepper_for(emulator.url, rules=[rule("jobs")])
    st.ingest()
    assert error_of(workspace, "m.job.yaml")["code"] == "outside_root"
    assert emulator.emulator.stats()["calls"] == {}
    assert outside.exists()


def test_collision_skip_renders_nothing_when_the_output_exists(
    stepper_for: Any, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """collision: skip, and alice__dance.mp4 already there: no job, no credits."""
    (workspace.output / "alice__dance.mp4").write_bytes(b"an earlier render")
    st: Stepper = stepper_for(
        emulator.url,
        rules=[rule("characters", collision="skip", scenes=[{"video": "assets/dance.mp4"}])],
    )
    make_character_png(workspace.watch / "alice.png")
    assert st.ingest() == 0
    assert emulator.emulator.stats()["calls"] == {}


def test_leave_in_place_remembers_inputs_across_restarts(
    make_config: MakeConfig, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """inputs: leave: the input stays where it is, and a restart does not render it again."""
    config = make_config(
        emulator.url,
        rules=[rule("characters", inputs="leave", scenes=[{"video": "assets/dance.mp4"}])],
    )
    make_character_png(workspace.watch / "alice.png")
    for _ in range(2):
        service = build_service(config, ApiKey(KEY), tick_interval_s=0.1)
        service.start()
        store = service.store
        try:
            wait_for(lambda: store.counts()[State.DONE] == 1, what="done")  # noqa: B023
            wait_for(lambda: service.tracker.pending() == 0, what="settled")  # noqa: B023
        finally:
            service.stop()
    assert (workspace.watch / "alice.png").exists()
    assert len(emulator.emulator.stats()["render_submissions"]) == 1


def test_a_copy_under_a_temporary_name_is_taken_once_renamed_polling(
    make_config: MakeConfig, workspace: Workspace, emulator: RunningEmulator
) -> None:
    """rsync/browser style (write NAME.part, rename) seen by a polling observer: one job,
    for the final name only."""
    config = make_config(
        emulator.url,
        polling_interval="200ms",
        rules=[rule("characters", observer="polling", scenes=[{"video": "assets/dance.mp4"}])],
    )
    service = build_service(config, ApiKey(KEY), tick_interval_s=0.1)
    service.start()
    try:
        staging = workspace.watch / "alice.png.part"
        drop(staging, workspace.character(), chunks=4, pause_s=0.2)
        staging.replace(workspace.watch / "alice.png")
        wait_for(lambda: service.store.counts()[State.DONE] == 1, what="done")
        jobs = service.store.latest()
    finally:
        service.stop()
    assert [Path(j.source_path).name for j in jobs] == ["alice.png"]


def test_a_pairs_rule_reloaded_away_leaves_nothing_waiting(
    stepper_for: Any, workspace: Workspace
) -> None:
    """Its waiting file no longer waits for a partner (the settle loop would tick every second
    for ever), and it is not said to be waiting."""
    st: Stepper = stepper_for("http://127.0.0.1:9", rules=[rule("pairs", pair_timeout="10m")])
    make_character_png(workspace.watch / "alice.png", seed=1)
    st.ingest()
    before = st.service.intake.waiting()
    st.service.intake.set_rules([])
    st.service.intake.tick(st.clock.time())
    assert (before, st.service.intake.waiting(), st.service.intake.waiting_partners()) == (
        True,
        False,
        {},
    )


def test_a_scenes_rule_jobs_input_is_the_dropped_video(
    stepper_for: Any, workspace: Workspace
) -> None:
    """What `status`, `jobs list` and the API call a job's input is the file that was dropped
    — for a scenes rule the video, not the rule's fixed character."""
    character = workspace.root / "hero.png"
    make_character_png(character, seed=4)
    st: Stepper = stepper_for(
        "http://127.0.0.1:9", rules=[rule("scenes", characters=[str(character)])]
    )
    make_driving_mp4(workspace.watch / "move.mp4", seconds=1.0, seed=5)
    assert st.ingest() == 1
    [job] = gather(st.service.config)["jobs"]
    assert (job["input"], job["scene"]) == (
        str(workspace.watch / "move.mp4"),
        str(workspace.watch / "move.mp4"),
    )
