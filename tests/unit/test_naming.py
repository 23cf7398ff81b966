"""Tests for viggle_watch.outputs.naming: safe file stems, templates and collision suffixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from viggle_watch.outputs.naming import (
    DEFAULT_TEMPLATE,
    MAX_STEM,
    free_path,
    render_stem,
    safe_stem,
)

# The longest file name most filesystems take (ext4, btrfs, xfs, NTFS via SMB: 255 bytes/units).
NAME_MAX_BYTES = 255
# What the pipeline adds to a stem: a collision suffix and the temp-file suffixes.
WORST_SUFFIX = "-99.mp4.part"


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("hero", "hero"),
        ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
        ("hero\nname\t\x00x", "hero_name_x"),
        ("line\r\nbreak", "line_break"),
        ("--rm -rf", "rm -rf"),
        ("  .hero. ", "hero"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("héros été", "héros été"),
        ("ダンス", "ダンス"),
        ("", "output"),
        ("...", "output"),
        ("---", "output"),
    ],
)
def test_safe_stem_replaces_unsafe_characters(text: str, stem: str) -> None:
    """Separators, reserved and control characters become ``_``; edges are cleaned."""
    assert safe_stem(text) == stem


def test_safe_stem_trims_long_names() -> None:
    """A very long ASCII name is cut to MAX_STEM characters."""
    assert safe_stem("a" * 1000) == "a" * MAX_STEM


@pytest.mark.parametrize(
    "text",
    [
        "-hero",
        ".hero",
        " hero ",
        pytest.param("-.hero", id="dash-dot"),
        pytest.param("a" * (MAX_STEM - 1) + ".b", id="cut-at-dot"),
        pytest.param("a" * (MAX_STEM - 1) + " b", id="cut-at-space"),
    ],
)
def test_safe_stem_never_starts_hidden_or_as_an_option_nor_ends_in_dot_or_space(
    text: str,
) -> None:
    """No leading '.' (hidden) or '-' (an option); no trailing '.' or ' ' (lost on SMB)."""
    stem = safe_stem(text)
    assert (stem[0] in ".-", stem[-1] in ". ") == (False, False)


def test_safe_stem_of_non_ascii_text_fits_a_file_name(tmp_path: Path) -> None:
    """A long non-ASCII stem plus suffixes still fits NAME_MAX and can be created."""
    stem = render_stem(DEFAULT_TEMPLATE, {"character": "キャラクター" * 13, "scene": "ダンス" * 26})
    part = tmp_path / f"{stem}{WORST_SUFFIX}"
    part.write_bytes(b"")
    assert len(part.name.encode("utf-8")) <= NAME_MAX_BYTES


def test_render_stem_fills_the_template() -> None:
    """Named fields are filled; extra values are allowed and unused."""
    values = {"character": "hero", "scene": "dance", "rule": "r1"}
    assert render_stem(DEFAULT_TEMPLATE, values) == "hero__dance"


def test_render_stem_makes_each_value_and_the_result_safe() -> None:
    """Values cannot smuggle separators in, and neither can the template."""
    values = {"character": "a/b", "scene": "../x", "model": "V4"}
    assert render_stem("{character}__{scene}/{model}", values) == "a_b___x_V4"


def test_render_stem_unknown_field_is_a_value_error() -> None:
    """A template naming a field with no value is refused, naming the field."""
    with pytest.raises(ValueError) as excinfo:
        render_stem("{character}_{job}_{sceen}", {"character": "hero", "scene": "dance"})
    assert str(excinfo.value) == (
        "unknown name field(s) ['job', 'sceen'] in '{character}_{job}_{sceen}'"
    )


def test_free_path_is_the_plain_name_when_free() -> None:
    """Nothing in the way: ``folder/stem.suffix``."""
    assert free_path(Path("/out"), "hero", ".mp4", lambda p: False) == Path("/out/hero.mp4")


def test_free_path_counts_up_past_taken_names() -> None:
    """Taken names get ``-2``, ``-3``… in order; the first free one is returned."""
    taken = {Path("/out/hero.mp4"), Path("/out/hero-2.mp4"), Path("/out/hero-3.mp4")}
    asked: list[Path] = []

    def exists(path: Path) -> bool:
        asked.append(path)
        return path in taken

    assert (free_path(Path("/out"), "hero", ".mp4", exists), asked) == (
        Path("/out/hero-4.mp4"),
        [
            Path("/out/hero.mp4"),
            Path("/out/hero-2.mp4"),
            Path("/out/hero-3.mp4"),
            Path("/out/hero-4.mp4"),
        ],
    )


def test_free_path_on_a_real_folder(tmp_path: Path) -> None:
    """With ``Path.exists`` it skips files really present."""
    (tmp_path / "hero.png").write_bytes(b"x")
    assert free_path(tmp_path, "hero", ".png", lambda p: p.exists()) == tmp_path / "hero-2.png"
