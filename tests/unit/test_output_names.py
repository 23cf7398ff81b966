"""Tests for output names from rules (``SpecBuilder.stem``): every naming field filled, for video,
template and scene-id scenes; unsafe names made safe; the job placeholder kept for the
downloader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.rules import WATCH, WAVE, rule_data
from viggle_watch.config.kinds import SceneSpec, parse_rule
from viggle_watch.intake.spec import SpecBuilder
from viggle_watch.outputs.naming import JOB_PLACEHOLDER, MAX_STEM
from viggle_watch.rules.pairing import RenderRequest
from viggle_watch.store.spec import InputRef, JobSpec

# --- output names (SpecBuilder.stem) ---------------------------------------------------------

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def ref(role: str, path: Path) -> InputRef:
    """An input at ``path`` (hash and size are irrelevant to names)."""
    return InputRef(role, str(path), "0" * 64, 1)


def named(
    naming: str,
    *,
    scene: SceneSpec,
    character: Path = WATCH / "alice.png",
    sources: tuple[Path, ...] = (),
    model: str = "V4_Preview",
) -> str:
    """The output stem of a hand-made request and its spec under a rule named ``wave``."""
    mode = "on_demand" if scene.video else "preprocessed"
    rule = parse_rule(rule_data("pairs", naming=naming, mode=mode))
    request = RenderRequest(rule, character, scene, sources or (character,))
    spec = JobSpec(
        rule=rule.name,
        character=ref("character", character),
        scene=ref("scene", scene.video) if scene.video else None,
        model=model,
        output_name="",
        mode=mode,
        template=scene.template,
        scene_id=scene.scene_id,
        segment=scene.segment,
    )
    return SpecBuilder.stem(request, spec, NOW)


@pytest.mark.parametrize(
    ("naming", "stem"),
    [
        ("{character}__{scene}", "alice__wave"),
        ("{scene}-{character}", "wave-alice"),
        ("{rule}_{model}", "wave_V4_Preview"),
        ("{date}_{character}", "2023-11-14_alice"),
        ("{character}__{job}", "alice__{job}"),
        ("{stem}", "alice"),
        ("plain", "plain"),
    ],
)
def test_stem_fills_every_field_for_a_video_scene(naming: str, stem: str) -> None:
    """Each name field for a character performing a driving video."""
    assert named(naming, scene=SceneSpec(video=WAVE)) == stem


@pytest.mark.parametrize(
    ("naming", "stem"),
    [
        ("{character}__{scene}", "alice__tmpl-bow"),
        ("{template}", "tmpl-bow"),
        ("{model}/{template}", "V3_Preview_tmpl-bow"),
    ],
)
def test_stem_for_a_template_scene(naming: str, stem: str) -> None:
    """A template is the scene label; the spec's model (a manifest override) is used."""
    assert named(naming, scene=SceneSpec(template="tmpl-bow"), model="V3_Preview") == stem


def test_stem_for_a_scene_id_uses_the_id_as_the_scene() -> None:
    """A scene id names the scene."""
    assert named("{scene}__{character}", scene=SceneSpec(scene_id="scn-7")) == "scn-7__alice"


@pytest.mark.parametrize(
    ("naming", "scene", "stem"),
    [
        ("{character}__{template}", SceneSpec(video=WAVE), "alice__"),
        ("{scene}[{template}]", SceneSpec(scene_id="scn-7"), "scn-7[]"),
    ],
)
def test_stem_empty_template_field_stays_empty(naming: str, scene: SceneSpec, stem: str) -> None:
    """{template} is empty when the scene is not a template, not the word 'output'."""
    assert named(naming, scene=scene) == stem


@pytest.mark.parametrize(
    ("source", "stem"),
    [
        (WATCH / "duo.job.yaml", "duo"),
        (WATCH / "shoot-01", "shoot-01"),
        (WATCH / "alice.mp4", "alice"),
    ],
)
def test_stem_field_is_the_first_source_without_suffixes(source: Path, stem: str) -> None:
    """{stem} is the dropped manifest, folder or file name without its suffixes."""
    assert named("{stem}", scene=SceneSpec(template="t"), sources=(source,)) == stem


def test_stem_job_placeholder_survives_for_the_downloader() -> None:
    """{job} stays literal in the stem and the downloader swaps in the job id."""
    stem = named("{character}__{job}", scene=SceneSpec(video=WAVE))
    assert (stem, stem.replace(JOB_PLACEHOLDER, "42")) == ("alice__{job}", "alice__42")


def test_stem_makes_unsafe_names_safe() -> None:
    """Reserved characters in a file name never reach the output name."""
    character = WATCH / 'a:b*c?"d.png'
    assert named("{character}|{scene}", scene=SceneSpec(video=WAVE), character=character) == (
        "a_b_c_d_wave"
    )


def test_stem_unknown_field_at_render_time_is_a_value_error() -> None:
    """render_stem refuses a field it has no value for (models refuse it earlier)."""
    rule = parse_rule(rule_data("pairs")).model_copy(update={"naming": "{who}"})
    scene = SceneSpec(video=WAVE)
    request = RenderRequest(rule, WATCH / "alice.png", scene, (WATCH / "alice.png",))
    spec = JobSpec("wave", ref("character", WATCH / "alice.png"), ref("scene", WAVE), "V4", "")
    with pytest.raises(ValueError, match="unknown name field"):
        SpecBuilder.stem(request, spec, NOW)


def test_stem_job_placeholder_survives_a_long_name() -> None:
    """{job} is kept even when the other fields fill the length limit."""
    character = WATCH / ("a" * MAX_STEM + ".png")
    stem = named("{character}__{job}", scene=SceneSpec(video=WAVE), character=character)
    assert (stem.endswith(JOB_PLACEHOLDER), len(stem.encode()) <= MAX_STEM) == (True, True)
