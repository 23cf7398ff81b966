"""Tests for viggle_watch.config.kinds: rule kinds, options, scenes. Output names from rules:
``test_output_names.py``."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.support.rules import BOB, HERO, OUTPUT, WATCH, WAVE, rule_data
from viggle_watch.config import CharactersRule, JobsRule, PairsRule, ScenesRule
from viggle_watch.config.kinds import NAME_FIELDS, SceneSpec, fixed_inputs, parse_rule


def refusal(data: dict[str, Any]) -> list[str]:
    """The messages pydantic gives for an invalid rule mapping (fails if it is valid)."""
    with pytest.raises(ValidationError) as caught:
        parse_rule(data)
    return [e["msg"] for e in caught.value.errors()]


# --- kinds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("characters", CharactersRule),
        ("scenes", ScenesRule),
        ("pairs", PairsRule),
        ("jobs", JobsRule),
    ],
)
def test_every_kind_parses_to_its_model(kind: str, model: type[Any]) -> None:
    """Each ``kind`` picks its own model."""
    rule = parse_rule(rule_data(kind))
    assert (type(rule), rule.kind, rule.watch, rule.output) == (model, kind, WATCH, OUTPUT)


def test_pairs_rule_defaults() -> None:
    """A minimal rule gets the documented defaults."""
    assert parse_rule(rule_data("pairs")).model_dump() == {
        "name": "wave",
        "kind": "pairs",
        "watch": WATCH,
        "output": OUTPUT,
        "model": "V4_Preview",
        "mode": "on_demand",
        "background_mode": None,
        "bg_color": None,
        "fast": False,
        "priority": 0,
        "naming": "{character}__{scene}",
        "collision": "suffix",
        "inputs": "processed",
        "observer": "auto",
        "recursive": False,
        "output_mode": 0o644,
        "output_group": None,
        "deliver": ["mp4"],
        "on_done": None,
        "on_failed": None,
        "pair_timeout": 600.0,
    }


@pytest.mark.parametrize("kind", ["nope", "character", "Pairs"])
def test_unknown_kind_is_refused(kind: str) -> None:
    """A kind other than the four is a tagged-union error."""
    with pytest.raises(ValidationError) as caught:
        parse_rule({**rule_data("pairs"), "kind": kind})
    assert [e["type"] for e in caught.value.errors()] == ["union_tag_invalid"]


def test_unknown_key_is_refused() -> None:
    """A typo in a rule is an error, not silently ignored."""
    with pytest.raises(ValidationError) as caught:
        parse_rule(rule_data("pairs", pair_timout="5m"))
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [
        ("extra_forbidden", ("pairs", "pair_timout"))
    ]


@pytest.mark.parametrize(("kind", "field"), [("characters", "scenes"), ("scenes", "characters")])
def test_fixed_lists_need_at_least_one_item(kind: str, field: str) -> None:
    """A characters rule without scenes, or a scenes rule without characters, is refused."""
    assert refusal(rule_data(kind, **{field: []})) == [
        "List should have at least 1 item after validation, not 0"
    ]


@pytest.mark.parametrize("name", ["", "bad name", "-dash", "a" * 65, "x/y"])
def test_rule_name_must_be_a_simple_word(name: str) -> None:
    """Rule names are short, start with a letter or digit, and hold no spaces or slashes."""
    assert refusal(rule_data(name=name)) == [
        "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'"
    ]


@pytest.mark.parametrize("priority", [-101, 101])
def test_priority_is_bounded(priority: int) -> None:
    """Priority stays within -100..100."""
    with pytest.raises(ValidationError):
        parse_rule(rule_data(priority=priority))


# --- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [None, "original", "transparent"])
def test_bg_color_without_solid_is_refused(mode: str | None) -> None:
    """bg_color is only allowed with background_mode: solid."""
    assert refusal(rule_data(background_mode=mode, bg_color="0,255,0")) == [
        "Value error, bg_color is only allowed with background_mode: solid"
    ]


def test_bg_color_with_solid_is_kept() -> None:
    """A green screen: solid with an R,G,B colour."""
    rule = parse_rule(rule_data(background_mode="solid", bg_color="0, 255, 0"))
    assert (rule.background_mode, rule.bg_color) == ("solid", "0, 255, 0")


@pytest.mark.parametrize("color", ["green", "#00ff00", "0,255", "1000,0,0"])
def test_bg_color_must_be_r_g_b(color: str) -> None:
    """bg_color is three numbers separated by commas."""
    with pytest.raises(ValidationError):
        parse_rule(rule_data(background_mode="solid", bg_color=color))


@pytest.mark.parametrize(
    ("naming", "unknown"),
    [("{character}_{foo}", "['foo']"), ("{Character}", "['Character']"), ("{0}", "['0']")],
)
def test_naming_with_an_unknown_field_is_refused(naming: str, unknown: str) -> None:
    """Only the documented name fields may appear in a naming template."""
    assert refusal(rule_data(naming=naming)) == [
        f"Value error, naming: unknown field(s) {unknown}; use {sorted(NAME_FIELDS)}"
    ]


def test_naming_with_every_field_is_accepted() -> None:
    """Every documented field is allowed together."""
    naming = "_".join(f"{{{name}}}" for name in sorted(NAME_FIELDS))
    assert parse_rule(rule_data(naming=naming)).naming == naming


def test_naming_with_a_positional_field_is_refused() -> None:
    """``{}`` is no name field: the rule is refused when loaded, not when a job is named."""
    with pytest.raises(ValidationError):
        parse_rule(rule_data(naming="{character}_{}"))


def test_watch_equal_to_output_is_refused() -> None:
    """Writing outputs into the watch folder would feed them back in."""
    assert refusal(rule_data(output=WATCH)) == [
        "Value error, watch and output must be different folders"
    ]


def test_recursive_rule_with_output_inside_watch_is_refused() -> None:
    """A recursive rule may not write its outputs below the folder it watches."""
    with pytest.raises(ValidationError):
        parse_rule(rule_data("scenes", recursive=True, output=WATCH / "out"))


@pytest.mark.parametrize("scene", [{"template": "tmpl-bow"}, {"scene_id": "scn-1"}])
def test_template_scene_in_on_demand_is_refused(scene: dict[str, Any]) -> None:
    """Templates and scene ids need mode: preprocessed."""
    assert refusal(rule_data("characters", scenes=[{"video": WAVE}, scene])) == [
        "Value error, template and scene_id scenes need mode: preprocessed"
    ]


def test_template_scene_in_preprocessed_is_accepted() -> None:
    """In preprocessed mode a characters rule takes templates and scene ids."""
    scenes = [{"template": "tmpl-bow"}, {"scene_id": "scn-1", "segment": "p1"}]
    rule = parse_rule(rule_data("characters", mode="preprocessed", scenes=scenes))
    assert isinstance(rule, CharactersRule)
    assert rule.scenes == [
        SceneSpec(template="tmpl-bow"),
        SceneSpec(scene_id="scn-1", segment="p1"),
    ]


@pytest.mark.parametrize(
    ("value", "mode"),
    [("0640", 0o640), ("640", 0o640), ("0o600", 0o600), (0o600, 0o600), ("0", 0), (0o777, 0o777)],
)
def test_output_mode_reads_octal(value: object, mode: int) -> None:
    """``"0640"``, ``"640"`` and an int all give the permission bits."""
    assert parse_rule(rule_data(output_mode=value)).output_mode == mode


@pytest.mark.parametrize("value", ["01000", 0o1000, -1, "0999", "rw-r--r--", "", "0x1ff"])
def test_bad_output_mode_is_refused(value: object) -> None:
    """Modes beyond 0777, negative or not octal are refused."""
    with pytest.raises(ValidationError) as caught:
        parse_rule(rule_data(output_mode=value))
    assert [e["loc"] for e in caught.value.errors()] == [("pairs", "output_mode")]


@pytest.mark.parametrize("value", ["01000", -1])
def test_out_of_range_output_mode_says_what_is_expected(value: object) -> None:
    """The message shows the expected form."""
    assert refusal(rule_data(output_mode=value)) == [
        f'Value error, {value!r} is not a file mode such as "0644"'
    ]


@pytest.mark.parametrize("value", ["0999", "rw-r--r--"])
def test_non_octal_output_mode_says_what_is_expected(value: str) -> None:
    """A mode that is not octal gets the same helpful message as one out of range."""
    assert refusal(rule_data(output_mode=value)) == [
        f'Value error, {value!r} is not a file mode such as "0644"'
    ]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("10m", 600.0), ("30s", 30.0), ("500ms", 0.5), ("1h", 3600.0), (45, 45.0), ("2.5m", 150.0)],
)
def test_pair_timeout_reads_durations(value: object, seconds: float) -> None:
    """pair_timeout takes 30s, 5m … or a bare number of seconds."""
    rule = parse_rule(rule_data("pairs", pair_timeout=value))
    assert isinstance(rule, PairsRule)
    assert rule.pair_timeout == seconds


@pytest.mark.parametrize("value", ["soon", "-5s", "5 minutes", True, -1])
def test_bad_pair_timeout_is_refused(value: object) -> None:
    """Garbage, negative durations and bools are refused."""
    with pytest.raises(ValidationError) as caught:
        parse_rule(rule_data("pairs", pair_timeout=value))
    assert [e["loc"] for e in caught.value.errors()] == [("pairs", "pair_timeout")]


def test_fixed_inputs_are_the_files_a_rule_names() -> None:
    """Scene videos and cast images of a characters rule; the characters of a scenes rule."""
    scenes = [{"video": WAVE}, {"template": "duo", "segment": "p1", "cast": {"p2": BOB}}]
    chars = parse_rule(rule_data("characters", mode="preprocessed", scenes=scenes))
    assert (
        fixed_inputs(chars),
        fixed_inputs(parse_rule(rule_data("scenes"))),
        fixed_inputs(parse_rule(rule_data("pairs"))),
    ) == ([WAVE, BOB], [HERO], [])


# --- scenes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="none"),
        pytest.param({"video": WAVE, "template": "t"}, id="video-and-template"),
        pytest.param({"template": "t", "scene_id": "s"}, id="template-and-scene-id"),
        pytest.param({"video": WAVE, "template": "t", "scene_id": "s"}, id="all-three"),
    ],
)
def test_scene_needs_exactly_one_source(data: dict[str, Any]) -> None:
    """A scene is a video, a template or a scene id: exactly one."""
    with pytest.raises(ValidationError) as caught:
        SceneSpec.model_validate(data)
    assert [e["msg"] for e in caught.value.errors()] == [
        "Value error, a scene needs exactly one of video, template or scene_id"
    ]


@pytest.mark.parametrize(
    "extra", [{"segment": "p1"}, {"cast": {"p2": str(BOB)}}, {"segment": "p1", "cast": {}}]
)
def test_segment_or_cast_with_a_video_is_refused(extra: dict[str, Any]) -> None:
    """Segments and cast belong to multi-person templates and scene ids, not to a video."""
    with pytest.raises(ValidationError) as caught:
        SceneSpec.model_validate({"video": WAVE, **extra})
    assert [e["msg"] for e in caught.value.errors()] == [
        "Value error, segment and cast need a multi-person template or scene_id"
    ]


def test_multi_person_scene_keeps_segment_and_cast() -> None:
    """A scene id with a segment and a cast is valid."""
    scene = SceneSpec.model_validate({"scene_id": "scn-1", "segment": "p1", "cast": {"p2": BOB}})
    assert scene == SceneSpec(scene_id="scn-1", segment="p1", cast={"p2": BOB})


def test_scene_spec_refuses_unknown_keys() -> None:
    """A typo in a scene is an error."""
    with pytest.raises(ValidationError) as caught:
        SceneSpec.model_validate({"video": WAVE, "vidoe": WAVE})
    assert [e["type"] for e in caught.value.errors()] == ["extra_forbidden"]


@pytest.mark.parametrize(
    "scene",
    [
        {"scene_id": "../../admin?x=1#"},
        {"template": "a b"},
        {"template": "5f2d9c1e-8a4b-4e7f-9c3d-2b1a0e9f8d7c", "segment": "p/../q"},
    ],
)
def test_ids_a_rule_names_are_one_path_segment(scene: dict[str, str]) -> None:
    """Template, scene and segment ids may end up in an API URL: letters, digits, - and _."""
    messages = refusal(rule_data("characters", mode="preprocessed", scenes=[scene]))
    assert any("is not a usable id" in m for m in messages)
