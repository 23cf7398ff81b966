"""Tests for viggle_watch.rules.manifest: manifests → render requests, complete or refused.
Paths outside the watch root and job folders: ``test_manifest_paths.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.rules import MANIFEST, ROOT, jobs_rule, request
from viggle_watch.config.kinds import SceneSpec
from viggle_watch.intake.spec import SpecBuilder
from viggle_watch.outputs.naming import safe_stem
from viggle_watch.rules.manifest import MAX_MANIFEST_BYTES, ManifestError, manifest_request
from viggle_watch.rules.pairing import Overrides, RenderRequest
from viggle_watch.store.spec import RenderChoices

NOT_A_MAPPING = ManifestError("the manifest must be a mapping (character, scene or template, …)")


# --- complete manifests ----------------------------------------------------------------------


def test_full_manifest_gives_a_request_with_overrides() -> None:
    """Character, scene video, every option and the output name come through."""
    text = (
        "character: alice.png\n"
        "scene: clips/wave.mp4\n"
        "model: V3_Preview\n"
        "mode: on_demand\n"
        "background_mode: solid\n"
        'bg_color: "0,255,0"\n'
        "fast: true\n"
        "output: alice-wave\n"
    )
    assert request(text) == RenderRequest(
        jobs_rule(),
        ROOT / "alice.png",
        SceneSpec(video=ROOT / "clips" / "wave.mp4"),
        (MANIFEST,),
        Overrides("V3_Preview", "on_demand", "solid", "0,255,0", True, "alice-wave"),
    )


def test_manifest_without_options_keeps_the_rules() -> None:
    """No option in the manifest: every override is None (the rule's values)."""
    assert request("character: alice.png\nscene: wave.mp4\n") == RenderRequest(
        jobs_rule(), ROOT / "alice.png", SceneSpec(video=ROOT / "wave.mp4"), (MANIFEST,)
    )


@pytest.mark.parametrize(
    ("text", "scene"),
    [
        pytest.param(  # the first segment's image is the character, the rest the cast
            "template: duo\nmapping:\n  p1: alice.png\n  p2: bob.png\n  p3: cast/carol.png\n",
            SceneSpec(
                template="duo",
                segment="p1",
                cast={"p2": ROOT / "bob.png", "p3": ROOT / "cast" / "carol.png"},
            ),
            id="template-mapping-first-segment-leads",
        ),
        pytest.param(  # the leader does not depend on the order the mapping is written in
            "scene_id: scn-9\nmapping:\n  p2: bob.png\n  p1: alice.png\n",
            SceneSpec(scene_id="scn-9", segment="p1", cast={"p2": ROOT / "bob.png"}),
            id="mapping-leader-is-the-first-segment-in-sorted-order",
        ),
        pytest.param(  # one segment of a template, the other people left as they are
            "character: alice.png\nsegment: p2\ntemplate: duo\n",
            SceneSpec(template="duo", segment="p2"),
            id="character-with-segment-and-template",
        ),
        pytest.param(  # a character for one segment and a mapping for the others: the cast
            "character: alice.png\nsegment: p1\ntemplate: duo\nmapping: {p2: bob.png}\n",
            SceneSpec(template="duo", segment="p1", cast={"p2": ROOT / "bob.png"}),
            id="character-segment-and-mapping-for-the-others",
        ),
    ],
)
def test_multi_person_manifest_casts_alice_as_the_leader(text: str, scene: SceneSpec) -> None:
    """Segment, template or scene id and mapping give alice's scene and the cast around her."""
    assert request(text) == RenderRequest(jobs_rule(), ROOT / "alice.png", scene, (MANIFEST,))


def test_paths_are_relative_to_a_manifest_in_a_subfolder() -> None:
    """``..`` that stays inside the root is fine: paths are relative to the manifest's folder."""
    manifest = ROOT / "shoot" / "take.job.yaml"
    text = "character: ../alice.png\nscene: clips/./wave.mp4\n"
    assert request(text, manifest) == RenderRequest(
        jobs_rule(),
        ROOT / "alice.png",
        SceneSpec(video=ROOT / "shoot" / "clips" / "wave.mp4"),
        (manifest,),
    )


def test_sources_given_by_the_caller_replace_the_manifest() -> None:
    """``sources`` (a job folder) are what gets filed away, not the manifest."""
    folder = ROOT / "job-1"
    found = manifest_request(
        jobs_rule(), folder / "job.yaml", "character: a.png\nscene: b.mp4\n", sources=(folder,)
    )
    assert found == RenderRequest(
        jobs_rule(), folder / "a.png", SceneSpec(video=folder / "b.mp4"), (folder,)
    )


# --- refused manifests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            "character: alice.png\nscene: wave.mp4\ncolour: red\n",
            "colour: unknown key (a typo?)",
            id="unknown-key",
        ),
        pytest.param(
            "charater: alice.png\nscene: wave.mp4\nfats: true\n",
            "charater: unknown key (a typo?); fats: unknown key (a typo?)",
            id="typos-are-all-named",
        ),
        pytest.param(
            "character: alice.png\n",
            "manifest: a manifest needs exactly one of scene, template or scene_id",
            id="missing-scene",
        ),
        pytest.param(
            "character: alice.png\nscene: wave.mp4\ntemplate: duo\n",
            "manifest: a manifest needs exactly one of scene, template or scene_id",
            id="two-scenes",
        ),
        pytest.param(
            "scene: wave.mp4\n",
            "manifest: a manifest needs a character or a mapping",
            id="missing-character",
        ),
        pytest.param(
            "scene: wave.mp4\nmapping: {p1: alice.png}\n",
            "manifest: a mapping needs a multi-person template or scene_id",
            id="mapping-with-a-video",
        ),
        pytest.param(
            "character: alice.png\nscene: wave.mp4\nmodel: V9\n",
            "model: Input should be 'V4_Preview' or 'V3_Preview'",
            id="bad-model",
        ),
        pytest.param(
            "character: 5\nscene: wave.mp4\n",
            "character: Input should be a valid string",
            id="not-a-string",
        ),
    ],
)
def test_invalid_manifests_are_refused_with_a_reason(text: str, reason: str) -> None:
    """Validation problems come back as one readable reason, without pydantic's prefixes."""
    assert request(text) == ManifestError(reason)


@pytest.mark.parametrize("text", ["- alice.png\n- wave.mp4\n", "just words\n", "", "42\n"])
def test_manifest_that_is_not_a_mapping_is_refused(text: str) -> None:
    """A list, a scalar or an empty file is not a manifest."""
    assert request(text) == NOT_A_MAPPING


@pytest.mark.parametrize("text", ["character: [alice.png\n", "a: b: c\n", "\tcharacter: x\n"])
def test_invalid_yaml_is_refused(text: str) -> None:
    """Broken YAML is refused with a reason saying so."""
    found = request(text)
    assert isinstance(found, ManifestError)
    assert found.reason.startswith("the manifest is not valid YAML on line ")
    assert "unicode string" not in found.reason


def padded(size: int, pad: str = "x") -> str:
    """A valid manifest padded with a YAML comment to ``size`` bytes of UTF-8."""
    head = "character: alice.png\nscene: wave.mp4\n# "
    room = size - len(head.encode())
    return head + pad * (room // len(pad.encode())) + "x" * (room % len(pad.encode()))


def test_manifest_of_exactly_the_limit_is_read() -> None:
    """A manifest of exactly MAX_MANIFEST_BYTES is parsed."""
    text = padded(MAX_MANIFEST_BYTES)
    assert (len(text.encode()), isinstance(request(text), RenderRequest)) == (
        MAX_MANIFEST_BYTES,
        True,
    )


@pytest.mark.parametrize("pad", ["x", "é"])
def test_manifest_over_the_limit_is_refused(pad: str) -> None:
    """One byte over 64 KiB (counted in UTF-8 bytes, not characters) is refused unparsed."""
    text = padded(MAX_MANIFEST_BYTES + 1, pad)
    assert request(text) == ManifestError("the manifest is larger than 65536 bytes")


# --- bugs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule_mode"),
    [
        pytest.param("character: alice.png\ntemplate: duo\n", "on_demand", id="rule-on-demand"),
        pytest.param(
            "scene_id: scn-1\nmapping: {p1: alice.png}\nmode: on_demand\n",
            "preprocessed",
            id="manifest-on-demand",
        ),
    ],
)
def test_template_manifest_in_on_demand_mode_is_refused(text: str, rule_mode: str) -> None:
    """A template or scene id needs mode: preprocessed (refused, or made preprocessed)."""
    rule = jobs_rule(mode=rule_mode)
    found = manifest_request(rule, MANIFEST, text)
    if isinstance(found, RenderRequest):
        assert (found.overrides.mode or rule.mode) == "preprocessed"


def test_manifest_bg_color_without_solid_is_refused() -> None:
    """bg_color in a manifest needs background_mode: solid (its own or the rule's)."""
    found = request('character: alice.png\nscene: wave.mp4\nbg_color: "0,255,0"\n')
    assert isinstance(found, ManifestError)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "character: alice.png\ntemplate: duo\nmapping: {p2: bob.png}\n",
            id="character-and-mapping-without-segment",
        ),
        pytest.param(
            "character: alice.png\nsegment: p1\ntemplate: duo\nmapping: {p1: bob.png}\n",
            id="segment-mapped-twice",
        ),
        pytest.param(
            "character: alice.png\nsegment: p1\nscene: wave.mp4\n", id="segment-with-a-video"
        ),
    ],
)
def test_contradictory_multi_person_manifests_are_refused(text: str) -> None:
    """A manifest that cannot say who plays whom is refused, not silently reinterpreted."""
    assert isinstance(request(text), ManifestError)


def test_manifest_background_mode_drops_the_rules_bg_color(tmp_path: Path) -> None:
    """A manifest asking for transparent over a green-screen rule renders transparent."""
    (tmp_path / "alice.png").write_bytes(b"png")
    (tmp_path / "wave.mp4").write_bytes(b"mp4")
    rule = jobs_rule(watch=tmp_path, background_mode="solid", bg_color="0,255,0")
    text = "character: alice.png\nscene: wave.mp4\nbackground_mode: transparent\n"
    found = manifest_request(rule, tmp_path / "t.job.yaml", text)
    assert isinstance(found, RenderRequest)
    spec = SpecBuilder().build(found, now=0.0, video_s=2.0)
    assert spec.options == RenderChoices("transparent", None, False)


@pytest.mark.parametrize("output", ["../../escaped", "/etc/escaped", "sub/dir/name"])
def test_manifest_output_name_stays_in_the_output_folder(tmp_path: Path, output: str) -> None:
    """A manifest's output name is refused or made a plain file stem (no path separators)."""
    (tmp_path / "alice.png").write_bytes(b"png")
    (tmp_path / "wave.mp4").write_bytes(b"mp4")
    text = f"character: alice.png\nscene: wave.mp4\noutput: {output}\n"
    found = manifest_request(jobs_rule(watch=tmp_path), tmp_path / "t.job.yaml", text)
    if isinstance(found, RenderRequest):
        name = SpecBuilder().build(found, now=0.0, video_s=2.0).output_name
        assert name == safe_stem(name)
