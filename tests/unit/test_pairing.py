"""Tests for viggle_watch.rules.pairing: the renders a settled file asks for, by rule kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from viggle_watch.config import CharactersRule, JobsRule, PairsRule, ScenesRule
from viggle_watch.config.kinds import SceneSpec, parse_rule
from viggle_watch.rules.pairing import (
    RenderRequest,
    characters_requests,
    is_manifest,
    orphans,
    pair_partner,
    pair_request,
    requests_for,
    rule_for,
    scenes_requests,
)

ROOT = Path("/w")
ASSETS = ROOT / "assets"
WAVE = ASSETS / "wave.mp4"
HERO = ASSETS / "hero.png"
VILLAIN = ASSETS / "villain.png"
BOB = ASSETS / "bob.png"


def rule_data(kind: str, **overrides: Any) -> dict[str, Any]:
    """A minimal valid rule mapping of ``kind`` watching /w/<kind>; fields overridable."""
    return {"name": kind, "kind": kind, "watch": ROOT / kind, "output": ROOT / "out", **overrides}


def characters_rule(**overrides: Any) -> CharactersRule:
    """A preprocessed characters rule with a video, a template and a multi-person scene id."""
    scenes = [
        {"video": WAVE},
        {"template": "tmpl-bow"},
        {"scene_id": "scn-duo", "segment": "p1", "cast": {"p2": BOB}},
    ]
    rule = parse_rule(rule_data("characters", mode="preprocessed", scenes=scenes, **overrides))
    assert isinstance(rule, CharactersRule)
    return rule


def scenes_rule(**overrides: Any) -> ScenesRule:
    """A scenes rule performed by two fixed characters."""
    rule = parse_rule(rule_data("scenes", characters=[HERO, VILLAIN], **overrides))
    assert isinstance(rule, ScenesRule)
    return rule


def pairs_rule(**overrides: Any) -> PairsRule:
    """A pairs rule watching /w/pairs."""
    rule = parse_rule(rule_data("pairs", **overrides))
    assert isinstance(rule, PairsRule)
    return rule


def jobs_rule(**overrides: Any) -> JobsRule:
    """A jobs rule watching /w/jobs."""
    rule = parse_rule(rule_data("jobs", **overrides))
    assert isinstance(rule, JobsRule)
    return rule


# --- characters ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice.png", "alice.jpg", "alice.JPEG", "ALICE.WEBP"])
def test_characters_image_fans_out_over_every_scene(name: str) -> None:
    """A dropped image is one request per scene: video, template and multi-person scene id."""
    rule = characters_rule()
    image = rule.watch / name
    assert characters_requests(rule, image) == [
        RenderRequest(rule, image, SceneSpec(video=WAVE), (image,)),
        RenderRequest(rule, image, SceneSpec(template="tmpl-bow"), (image,)),
        RenderRequest(
            rule, image, SceneSpec(scene_id="scn-duo", segment="p1", cast={"p2": BOB}), (image,)
        ),
    ]


@pytest.mark.parametrize(
    "name", ["clip.mp4", "notes.txt", "alice.png.part", "alice", "duo.job.yaml", "alice.gif"]
)
def test_characters_non_images_ask_for_nothing(name: str) -> None:
    """Videos, text, partial copies, manifests and unsupported images make no request."""
    rule = characters_rule()
    assert characters_requests(rule, rule.watch / name) == []


def test_characters_single_video_scene_is_one_request() -> None:
    """An on-demand rule with one scene video makes exactly one request per image."""
    rule = parse_rule(rule_data("characters", scenes=[{"video": WAVE}]))
    assert isinstance(rule, CharactersRule)
    image = rule.watch / "alice.png"
    assert characters_requests(rule, image) == [
        RenderRequest(rule, image, SceneSpec(video=WAVE), (image,))
    ]


# --- scenes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dance.mp4", "dance.MOV", "dance.avi", "dance.webm"])
def test_scenes_video_is_performed_by_every_character(name: str) -> None:
    """A dropped video is one request per fixed character, the video as the scene."""
    rule = scenes_rule()
    video = rule.watch / name
    assert scenes_requests(rule, video) == [
        RenderRequest(rule, HERO, SceneSpec(video=video), (video,)),
        RenderRequest(rule, VILLAIN, SceneSpec(video=video), (video,)),
    ]


@pytest.mark.parametrize("name", ["alice.png", "notes.txt", "dance.mp4.part", "dance.mkv"])
def test_scenes_non_videos_ask_for_nothing(name: str) -> None:
    """Images, text, partial copies and unsupported containers make no request."""
    rule = scenes_rule()
    assert scenes_requests(rule, rule.watch / name) == []


# --- requests_for ----------------------------------------------------------------------------


def test_requests_for_dispatches_characters_and_scenes_rules() -> None:
    """requests_for gives the same requests as the kind's own function."""
    chars, scenes = characters_rule(), scenes_rule()
    image, video = chars.watch / "alice.png", scenes.watch / "dance.mp4"
    assert (requests_for(chars, image), requests_for(scenes, video)) == (
        characters_requests(chars, image),
        scenes_requests(scenes, video),
    )


def test_requests_for_pairs_and_jobs_rules_is_empty() -> None:
    """Pairs and job rules are handled by the intake, not file by file."""
    pairs, jobs = pairs_rule(), jobs_rule()
    assert (
        requests_for(pairs, pairs.watch / "alice.png"),
        requests_for(jobs, jobs.watch / "duo.job.yaml"),
    ) == ([], [])


@pytest.mark.parametrize(
    ("name", "manifest"),
    [
        ("duo.job.yaml", True),
        ("DUO.JOB.YAML", True),
        ("job.yaml", False),
        ("duo.yaml", False),
        ("duo.job.yml", False),
    ],
)
def test_is_manifest_needs_the_job_yaml_suffix(name: str, manifest: bool) -> None:
    """Only NAME.job.yaml (any case) is a loose manifest; a folder's job.yaml is not."""
    assert is_manifest(Path("/w/jobs") / name) is manifest


# --- pairs -----------------------------------------------------------------------------------

PAIRS = ROOT / "pairs"


@pytest.mark.parametrize(
    ("arriving", "waiting"),
    [
        (PAIRS / "alice.png", PAIRS / "alice.mp4"),
        (PAIRS / "alice.mp4", PAIRS / "alice.png"),
        (PAIRS / "alice.JPG", PAIRS / "alice.mov"),
    ],
)
def test_pair_partner_is_the_other_kind_with_the_same_stem(arriving: Path, waiting: Path) -> None:
    """An image finds its waiting video, and a video its waiting image."""
    assert pair_partner(arriving, {waiting.stem: waiting}) == waiting


@pytest.mark.parametrize(
    ("arriving", "waiting"),
    [
        pytest.param(PAIRS / "alice.jpg", PAIRS / "alice.png", id="two-images"),
        pytest.param(PAIRS / "alice.mov", PAIRS / "alice.mp4", id="two-videos"),
        pytest.param(PAIRS / "alice.png", PAIRS / "alice.png", id="itself"),
        pytest.param(PAIRS / "alice.png", PAIRS / "alice.txt", id="not-media"),
    ],
)
def test_pair_partner_same_kind_or_itself_is_none(arriving: Path, waiting: Path) -> None:
    """Two images, two videos, a file and itself, or a non-media file never pair."""
    assert pair_partner(arriving, {waiting.stem: waiting}) is None


def test_pair_partner_other_stems_do_not_pair() -> None:
    """Only the waiting file with the same stem is considered."""
    waiting = {"bob": PAIRS / "bob.mp4", "carol": PAIRS / "carol.mp4"}
    assert pair_partner(PAIRS / "alice.png", waiting) is None


def test_pair_partner_with_nobody_waiting_is_none() -> None:
    """The first file of a pair finds nobody."""
    assert pair_partner(PAIRS / "alice.png", {}) is None


@pytest.mark.parametrize("image_first", [True, False])
def test_pair_request_the_image_is_the_character(image_first: bool) -> None:
    """Whatever the order, the image performs the video; both are the sources."""
    rule = pairs_rule()
    image, video = rule.watch / "alice.png", rule.watch / "alice.mp4"
    a, b = (image, video) if image_first else (video, image)
    assert pair_request(rule, a, b) == RenderRequest(
        rule, image, SceneSpec(video=video), (image, video)
    )


def test_orphans_timeout_boundary_is_inclusive() -> None:
    """A file waiting exactly ``timeout_s`` is an orphan; one second less is not."""
    since = {PAIRS / "c.png": 101.0, PAIRS / "a.png": 100.0, PAIRS / "b.mp4": 50.0}
    assert orphans(since, now=110.0, timeout_s=10.0) == [PAIRS / "a.png", PAIRS / "b.mp4"]


def test_orphans_are_sorted_and_zero_timeout_takes_everyone() -> None:
    """With no timeout every waiting file is an orphan, in path order."""
    since = {PAIRS / "z.png": 5.0, PAIRS / "m.mp4": 5.0, PAIRS / "a.png": 5.0}
    assert orphans(since, now=5.0, timeout_s=0.0) == [
        PAIRS / "a.png",
        PAIRS / "m.mp4",
        PAIRS / "z.png",
    ]


def test_orphans_none_waiting_or_none_due() -> None:
    """Nothing waiting, or nothing due yet, gives no orphans."""
    assert (
        orphans({}, now=1e9, timeout_s=1.0),
        orphans({PAIRS / "a.png": 100.0}, now=109.999, timeout_s=10.0),
    ) == ([], [])


# --- rule_for --------------------------------------------------------------------------------


def rules_by_folder() -> tuple[PairsRule, PairsRule]:
    """A flat rule on /w/flat and a recursive rule on /w/deep."""
    return (
        pairs_rule(name="flat", watch=ROOT / "flat"),
        pairs_rule(name="deep", watch=ROOT / "deep", recursive=True),
    )


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        pytest.param(ROOT / "flat" / "a.png", "flat", id="flat-direct-child"),
        pytest.param(ROOT / "flat" / "sub" / "a.png", None, id="flat-not-deeper"),
        pytest.param(ROOT / "deep" / "a.png", "deep", id="recursive-direct-child"),
        pytest.param(ROOT / "deep" / "x" / "y" / "a.png", "deep", id="recursive-deeper"),
        pytest.param(ROOT / "deep2" / "a.png", None, id="recursive-sibling-prefix"),
        pytest.param(ROOT / "flat2" / "a.png", None, id="flat-sibling-prefix"),
        pytest.param(ROOT / "deep", None, id="the-watch-folder-itself"),
        pytest.param(ROOT / "a.png", None, id="above-both"),
    ],
)
def test_rule_for_matches_the_watch_folder(file: Path, expected: str | None) -> None:
    """Direct children match; deeper files only under a recursive rule."""
    found = rule_for(list(rules_by_folder()), file)
    assert (found.name if found else None) == expected


def test_rule_for_first_matching_rule_wins() -> None:
    """When a recursive rule covers another rule's folder, the earlier rule is chosen."""
    outer = pairs_rule(name="outer", watch=ROOT, output=ROOT.parent / "out", recursive=True)
    inner = pairs_rule(name="inner", watch=ROOT / "inner")
    file = ROOT / "inner" / "a.png"
    assert (rule_for([outer, inner], file), rule_for([inner, outer], file)) == (outer, inner)


def test_rule_for_skips_filed_subfolders_of_a_recursive_rule() -> None:
    """processed/ and failed/ under a recursive watch folder are not watched again."""
    deep = rules_by_folder()[1]
    skip = frozenset({"processed", "failed"})
    found = [
        rule_for([deep], ROOT / "deep" / sub / "a.png", skip=skip)
        for sub in ("processed", "x/failed", "x")
    ]
    assert found == [None, None, deep]


def test_rule_for_no_rules_is_none() -> None:
    """With no rules nothing matches."""
    assert rule_for([], ROOT / "flat" / "a.png") is None
