"""Tests for viggle_watch.intake.decide: what a settled file becomes, from facts alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from viggle_watch.config import PairsRule, Rule
from viggle_watch.config.kinds import parse_rule
from viggle_watch.intake.checks import Problem
from viggle_watch.intake.decide import (
    Ignore,
    Make,
    Named,
    Refuse,
    Wait,
    decide_file,
    decide_manifest,
    role_of,
    skip_for_collision,
)
from viggle_watch.rules.manifest import ManifestError
from viggle_watch.rules.pairing import pair_request, requests_for

WATCH = Path("/srv/in")
BAD = Problem("image_too_small", "The image is 16x16 pixels.", {})


def rule(kind: str, **extra: object) -> Rule:
    doc = {"name": kind, "kind": kind, "watch": str(WATCH), "output": "/srv/out", **extra}
    if kind == "characters":
        doc.setdefault("scenes", [{"video": "/srv/assets/dance.mp4"}])
    if kind == "scenes":
        doc.setdefault("characters", ["/srv/assets/hero.png"])
    return parse_rule(doc)


@pytest.mark.parametrize(
    ("kind", "mode", "name", "role"),
    [
        ("characters", "on_demand", "a.png", "image"),
        ("pairs", "on_demand", "a.mp4", "driving"),
        ("scenes", "preprocessed", "a.webm", "scene"),
        ("jobs", "on_demand", "a.job.yaml", None),
    ],
)
def test_each_file_is_checked_in_the_role_its_rule_gives_it(
    kind: str, mode: str, name: str, role: str | None
) -> None:
    """A video drives a render on demand and becomes a scene when preprocessed."""
    assert role_of(rule(kind, mode=mode), WATCH / name) == role


def test_a_problem_refuses_the_file() -> None:
    """A file that cannot be sent is refused with its problem, whatever the rule kind."""
    assert decide_file(rule("characters"), WATCH / "a.png", BAD, {}) == Refuse(BAD)


def test_a_good_image_makes_one_request_per_scene() -> None:
    """A characters rule: the image with each of the rule's scenes."""
    r = rule("characters")
    assert decide_file(r, WATCH / "a.png", None, {}) == Make(
        tuple(requests_for(r, WATCH / "a.png"))
    )


def test_a_pair_waits_for_its_partner_then_makes_one_request() -> None:
    """The first of a pair waits under its stem; its partner makes the request."""
    r = rule("pairs")
    assert isinstance(r, PairsRule)
    first = decide_file(r, WATCH / "bob.png", None, {})
    second = decide_file(r, WATCH / "bob.mp4", None, {"bob": WATCH / "bob.png"})
    assert (first, second) == (
        Wait("bob"),
        Make((pair_request(r, WATCH / "bob.mp4", WATCH / "bob.png"),)),
    )


def test_files_a_rule_kind_cannot_use_are_ignored() -> None:
    """A text file in a pairs folder, a loose image in a jobs folder: nothing to do."""
    assert (
        decide_file(rule("pairs"), WATCH / "notes.txt", None, {}),
        decide_file(rule("jobs"), WATCH / "a.png", None, {}),
    ) == (Ignore(), Ignore())


def test_a_manifest_is_refused_for_the_first_bad_file_it_names() -> None:
    """Bad YAML, a link or a path outside, a missing file, an unsendable one: each refused."""
    request = requests_for(rule("characters"), WATCH / "a.png")[0]
    bad_yaml = decide_manifest(ManifestError("not YAML"), [])
    outside = decide_manifest(request, [Named(WATCH / "x.png", inside=False)])
    missing = decide_manifest(
        request, [Named(WATCH / "a.png"), Named(WATCH / "b.png", exists=False)]
    )
    unsendable = decide_manifest(request, [Named(WATCH / "a.png", problem=BAD)])
    codes = [
        d.problem.code if isinstance(d, Refuse) else ""
        for d in (bad_yaml, outside, missing, unsendable)
    ]
    assert (codes, decide_manifest(request, [Named(WATCH / "a.png")])) == (
        ["bad_manifest", "outside_root", "missing", "image_too_small"],
        Make((request,)),
    )


@pytest.mark.parametrize(
    ("collision", "exists", "skip"),
    [("skip", True, True), ("skip", False, False), ("suffix", True, False)],
)
def test_collision_skip_skips_only_when_the_output_exists(
    collision: str, exists: bool, skip: bool
) -> None:
    """No render (and no spending) for an output that is there already, under skip."""
    assert skip_for_collision(rule("characters", collision=collision), exists) is skip
