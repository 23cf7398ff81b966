"""Tests for viggle_watch.store.spec: the JSON form of a job's request, its dedup key and labels."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from viggle_watch.store.spec import (
    CastMember,
    InputRef,
    JobSpec,
    RenderChoices,
    dedup_key,
    scene_label,
)


def ref(role: str, name: str, fill: str, size: int = 100) -> InputRef:
    """An input of ``role`` at /in/``name`` whose sha256 is ``fill`` repeated."""
    return InputRef(role, f"/in/{name}", fill * 64, size)


def make_spec(**overrides: Any) -> JobSpec:
    """A simple on-demand spec: one character, one driving video; fields overridable."""
    spec = JobSpec(
        rule="dance",
        character=ref("character", "hero.png", "a"),
        scene=InputRef("scene", "/assets/dance.mp4", "b" * 64, 5000, duration_s=4.5),
        model="V4_Preview",
        output_name="hero__dance",
    )
    return replace(spec, **overrides)


def make_full_spec() -> JobSpec:
    """A preprocessed multi-person spec using every optional field."""
    return JobSpec(
        rule="duo",
        character=ref("character", "hero.png", "a"),
        scene=None,
        model="V4_Preview",
        output_name="hero__tpl",
        mode="preprocessed",
        template="tpl_42",
        segment="seg_1",
        cast=(
            CastMember("seg_2", ref("cast", "sidekick.png", "c", 7)),
            CastMember("seg_3", ref("cast", "villain.png", "d", 8)),
        ),
        options=RenderChoices(background_mode="solid", bg_color="#00ff00", fast=True),
    )


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        make_spec(),
        make_full_spec(),
        make_spec(scene=None, scene_id="scn_9", mode="preprocessed"),
    ],
    ids=["video", "template-with-cast", "scene-id"],
)
def test_json_round_trip(spec: JobSpec) -> None:
    """from_json(to_json(spec)) gives the very same spec, cast and options included."""
    assert JobSpec.from_json(spec.to_json()) == spec


def test_to_json_is_stable_and_sorted() -> None:
    """Equal specs serialise to identical text with sorted keys (stored and hashed as is)."""
    text = make_full_spec().to_json()
    assert (text, list(json.loads(text))) == (
        make_full_spec().to_json(),
        sorted(json.loads(text)),
    )


def test_from_json_reads_a_skeleton_era_document() -> None:
    """A stored request from before modes, options, cast and templates loads with defaults."""
    old = json.dumps(
        {
            "character": {
                "path": "/in/hero.png",
                "role": "character",
                "sha256": "a" * 64,
                "size": 1,
            },
            "model": "V3",
            "output_name": "hero__dance",
            "rule": "dance",
            "scene": {"path": "/assets/d.mp4", "role": "scene", "sha256": "b" * 64, "size": 2},
        },
        sort_keys=True,
    )
    assert JobSpec.from_json(old) == JobSpec(
        rule="dance",
        character=InputRef("character", "/in/hero.png", "a" * 64, 1, None),
        scene=InputRef("scene", "/assets/d.mp4", "b" * 64, 2, None),
        model="V3",
        output_name="hero__dance",
        mode="on_demand",
        template=None,
        scene_id=None,
        segment=None,
        cast=(),
        options=RenderChoices(None, None, fast=False),
    )


# --- dedup key -------------------------------------------------------------------------------


def test_dedup_key_is_a_sha256_hex() -> None:
    """The key is 64 lowercase hex digits."""
    key = dedup_key(make_spec())
    assert (len(key), set(key) <= set("0123456789abcdef")) == (64, True)


def test_dedup_key_ignores_paths_sizes_and_output_name() -> None:
    """The same content found under other paths (or renamed output) is the same render."""
    moved = make_full_spec()
    moved = replace(
        moved,
        character=replace(moved.character, path="/elsewhere/processed/hero-2.png"),
        cast=tuple(replace(m, character=replace(m.character, path="/x/y.png")) for m in moved.cast),
        output_name="other",
    )
    video = make_spec()
    video_moved = replace(video, scene=InputRef("scene", "/other/d.mp4", "b" * 64, 5000))
    assert (dedup_key(moved), dedup_key(video_moved)) == (
        dedup_key(make_full_spec()),
        dedup_key(video),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"model": "V3"},
        {"rule": "other"},
        {"segment": "seg_9"},
        {"template": "tpl_43"},
        {"character": ref("character", "hero.png", "e")},
        {"options": RenderChoices(background_mode="solid", bg_color="#00ff00", fast=False)},
        {"options": RenderChoices(background_mode="solid", bg_color="#0000ff", fast=True)},
        {"options": RenderChoices(fast=True)},
        {"cast": (CastMember("seg_2", ref("cast", "sidekick.png", "c", 7)),)},
        {
            "cast": (
                CastMember("seg_2", ref("cast", "sidekick.png", "f", 7)),
                CastMember("seg_3", ref("cast", "villain.png", "d", 8)),
            )
        },
        {
            "cast": (
                CastMember("seg_3", ref("cast", "sidekick.png", "c", 7)),
                CastMember("seg_2", ref("cast", "villain.png", "d", 8)),
            )
        },
        {"template": None, "scene_id": "tpl_42"},
        {"template": None, "scene": InputRef("scene", "/a.mp4", "9" * 64, 1)},
    ],
    ids=[
        "model",
        "rule",
        "segment",
        "template",
        "character",
        "fast",
        "bg-color",
        "background",
        "cast-smaller",
        "cast-character",
        "cast-segments-swapped",
        "scene-id-same-text-as-template",
        "video-scene",
    ],
)
def test_dedup_key_differs_when_the_render_differs(change: dict[str, Any]) -> None:
    """Any change to the rule, model, options, scene, segment or cast is another render."""
    assert dedup_key(replace(make_full_spec(), **change)) != dedup_key(make_full_spec())


def test_dedup_key_differs_for_another_driving_video() -> None:
    """Same character, different video content: different key."""
    other = make_spec(scene=InputRef("scene", "/assets/dance.mp4", "c" * 64, 5000))
    assert dedup_key(other) != dedup_key(make_spec())


# --- labels and characters -------------------------------------------------------------------


def test_scene_label() -> None:
    """The video's file stem, else the template id, else the scene id, else "scene"."""
    assert [
        scene_label(make_spec()),
        scene_label(make_spec(scene=None, template="tpl_1")),
        scene_label(make_spec(scene=None, scene_id="scn_1")),
        scene_label(make_spec(scene=None)),
    ] == ["dance", "tpl_1", "scn_1", "scene"]


def test_characters_are_the_dropped_one_then_the_cast_in_order() -> None:
    """The render's characters: the spec's own character first, then each cast member's."""
    spec = make_full_spec()
    assert (spec.characters, make_spec().characters) == (
        [spec.character, spec.cast[0].character, spec.cast[1].character],
        [make_spec().character],
    )
