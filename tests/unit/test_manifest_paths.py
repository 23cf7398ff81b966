"""Tests for viggle_watch.rules.manifest, where a manifest's files may be: never outside the
watch root (``..``, absolute paths, ``~``), and job folders (a folder manifest, or one image and
one video). Complete and refused manifests: ``test_manifest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.rules import ROOT, jobs_rule, request
from viggle_watch.config.kinds import SceneSpec
from viggle_watch.rules.manifest import FOLDER_MANIFEST, ManifestError, folder_request, inside
from viggle_watch.rules.pairing import RenderRequest

# --- paths outside the root ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field", "path"),
    [
        pytest.param(
            "character: ../alice.png\nscene: wave.mp4\n",
            "character",
            "../alice.png",
            id="character-dotdot",
        ),
        pytest.param(
            "character: sub/../../alice.png\nscene: wave.mp4\n",
            "character",
            "sub/../../alice.png",
            id="character-dotdot-after-a-folder",
        ),
        pytest.param(
            "character: ../jobs2/alice.png\nscene: wave.mp4\n",
            "character",
            "../jobs2/alice.png",
            id="sibling-with-common-prefix",
        ),
        pytest.param(
            "character: /w/jobs/alice.png\nscene: wave.mp4\n",
            "character",
            "/w/jobs/alice.png",
            id="absolute-even-inside",
        ),
        pytest.param(
            "character: /etc/passwd\nscene: wave.mp4\n", "character", "/etc/passwd", id="absolute"
        ),
        pytest.param(
            "character: ~/alice.png\nscene: wave.mp4\n", "character", "~/alice.png", id="home"
        ),
        pytest.param(
            "character: alice.png\nscene: ../../etc/wave.mp4\n",
            "scene",
            "../../etc/wave.mp4",
            id="scene-dotdot",
        ),
        pytest.param(
            "template: duo\nmapping: {p1: alice.png, p2: ../bob.png}\n",
            "mapping.p2",
            "../bob.png",
            id="mapping-dotdot",
        ),
        pytest.param(
            "character: alice.png\ntemplate: duo\nsegment: p1\nmapping: {p2: /tmp/bob.png}\n",
            "mapping.p2",
            "/tmp/bob.png",
            id="mapping-absolute",
        ),
    ],
)
def test_paths_leaving_the_root_are_refused_naming_the_field(
    text: str, field: str, path: str
) -> None:
    """``..`` climbing out, absolute paths and ``~`` are refused; the reason names the field."""
    assert request(text) == ManifestError(f"{field} '{path}' is outside the watch folder")


@pytest.mark.parametrize(
    ("base", "name", "expected"),
    [
        pytest.param(ROOT, "a.png", ROOT / "a.png", id="child"),
        pytest.param(ROOT, ".", ROOT, id="root-itself"),
        pytest.param(ROOT / "sub", "..", ROOT, id="back-to-root"),
        pytest.param(ROOT, "x/../../jobs/a.png", ROOT / "a.png", id="out-and-back-in"),
        pytest.param(ROOT / "a" / "b", "../../c.png", ROOT / "c.png", id="deep-base"),
        pytest.param(ROOT, "..", None, id="parent"),
        pytest.param(ROOT, "../jobs2/a.png", None, id="sibling-common-prefix"),
        pytest.param(ROOT, "../jobs", ROOT, id="sibling-path-to-itself"),
        pytest.param(ROOT, "", None, id="empty"),
        pytest.param(ROOT, "/w/jobs/a.png", None, id="absolute"),
        pytest.param(ROOT, "~", None, id="home"),
    ],
)
def test_inside_edge_cases(base: Path, name: str, expected: Path | None) -> None:
    """``inside`` normalises, keeps the root itself, and refuses prefixes that only look alike."""
    assert inside(ROOT, base, name) == expected


def test_inside_a_root_with_a_common_string_prefix() -> None:
    """/w/in2 is not inside /w/in although the string starts the same."""
    assert (
        inside(Path("/w/in"), Path("/w/in"), "../in2/a.png"),
        inside(Path("/w/in2"), Path("/w/in2"), "../in/a.png"),
    ) == (None, None)


# --- job folders -----------------------------------------------------------------------------

FOLDER = ROOT / "job-7"


def test_folder_manifest_wins_over_the_files() -> None:
    """A job.yaml inside decides, even beside loose images; the folder is the source."""
    names = ["a.png", "b.png", "dance.mp4", FOLDER_MANIFEST]
    text = "character: b.png\ntemplate: duo\nsegment: p1\n"
    assert folder_request(jobs_rule(), FOLDER, names, text) == RenderRequest(
        jobs_rule(),
        FOLDER / "b.png",
        SceneSpec(template="duo", segment="p1"),
        (FOLDER,),
    )


def test_folder_manifest_paths_may_not_leave_the_root() -> None:
    """A job.yaml's paths are relative to the folder and kept inside the root."""
    text = "character: ../../alice.png\nscene: dance.mp4\n"
    assert folder_request(jobs_rule(), FOLDER, [], text) == ManifestError(
        "character '../../alice.png' is outside the watch folder"
    )


def test_folder_with_one_image_and_one_video() -> None:
    """Exactly one image and one video (other files ignored) make the job."""
    names = ["READY", "notes.txt", "Alice.PNG", "dance.mov"]
    assert folder_request(jobs_rule(), FOLDER, names, None) == RenderRequest(
        jobs_rule(), FOLDER / "Alice.PNG", SceneSpec(video=FOLDER / "dance.mov"), (FOLDER,)
    )


@pytest.mark.parametrize(
    ("names", "counts"),
    [
        (["dance.mp4"], "found 0 image(s) and 1 video(s)"),
        (["a.png", "b.jpg", "dance.mp4"], "found 2 image(s) and 1 video(s)"),
        (["a.png"], "found 1 image(s) and 0 video(s)"),
        (["a.png", "x.mp4", "y.webm"], "found 1 image(s) and 2 video(s)"),
        ([], "found 0 image(s) and 0 video(s)"),
    ],
)
def test_folder_without_exactly_one_of_each_is_refused_with_counts(
    names: list[str], counts: str
) -> None:
    """Anything but one image and one video, without a job.yaml, is refused with the counts."""
    assert folder_request(jobs_rule(), FOLDER, names, None) == ManifestError(
        f"a job folder needs a job.yaml, or exactly one image and one video ({counts})"
    )
