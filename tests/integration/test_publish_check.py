"""A download is published only as the bytes that were received (issue 14 §6: two writers
in one `.part` published a truncated video as `done`): each job's part file is named after it
and its holder, and before the rename the file on disk must have the size and sha256 of what
was downloaded — else it is dropped and the download starts over."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO, Any

import pytest

from viggle_watch.errors import DownloadError
from viggle_watch.media.synth import make_result_mp4
from viggle_watch.outputs.atomic import download_tag, fill_resumable, part_path, publish_part
from viggle_watch.render.downloader import stale_parts
from viggle_watch.render.review import playable
from viggle_watch.viggle.transport import Downloaded

BODY = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


def fetching(body: bytes, *, meddle: Path | None = None) -> Any:
    def fetch(f: IO[bytes], offset: int, digest: Any) -> Downloaded:
        f.write(body[offset:])
        digest.update(body[offset:])
        if meddle is not None:  # another writer holding the same file writes into it
            with meddle.open("r+b") as other:
                other.write(b"\xff" * 100)
        return Downloaded(len(body), digest.hexdigest())

    return fetch


def publish(dest: Path, fetch: Any, *, tag: str) -> Downloaded:
    """What the downloader does around the gate: fill the part file, then publish it."""
    got: Downloaded = fill_resumable(dest, fetch, tag=tag)
    publish_part(part_path(dest, tag), dest, got)
    return got


def test_what_was_received_is_published(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    tag = download_tag(7, "render-01")
    got = publish(dest, fetching(BODY), tag=tag)
    assert (dest.read_bytes(), got.sha256) == (BODY, hashlib.sha256(BODY).hexdigest())
    assert not part_path(dest, tag).exists()


def test_bytes_another_writer_changed_are_never_published(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    tmp = part_path(dest, download_tag(7, "render-01"))
    tmp.write_bytes(b"")  # the other writer has it open too
    with pytest.raises(DownloadError, match="not what was downloaded") as caught:
        publish(dest, fetching(BODY, meddle=tmp), tag=download_tag(7, "render-01"))
    assert caught.value.restart
    assert not dest.exists() and not tmp.exists()


def test_each_job_and_host_has_its_own_part_file_and_clears_only_its_own(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    mine, theirs = part_path(dest, download_tag(7, "a")), part_path(dest, download_tag(7, "b"))
    assert mine != theirs
    for part in (mine, theirs, part_path(tmp_path / "old.mp4", download_tag(3, "a"))):
        part.write_bytes(b"x")
    left = stale_parts([tmp_path], owned={mine}, host="a")
    assert left == [part_path(tmp_path / "old.mp4", download_tag(3, "a"))]


def test_a_result_that_is_not_a_playable_video_is_not_published(tmp_path: Path) -> None:
    """Issue 14 §12: whatever a bad hop served (an HTML page with the right length) never
    lands in the output folder as NAME.mp4; a real video does."""
    page = b"<html><body>Sign in to continue</body></html>" * 20
    dest = tmp_path / "out.mp4"
    fill_resumable(dest, fetching(page), tag="1-a")  # filled, not published: judged first
    assert "not a playable video" in (playable(part_path(dest, "1-a")) or "")
    assert not dest.exists()
    video = make_result_mp4(1.0)
    video_dest = tmp_path / "video.mp4"
    got = fill_resumable(video_dest, fetching(video), tag="1-a")
    assert playable(part_path(video_dest, "1-a")) is None
    publish_part(part_path(video_dest, "1-a"), video_dest, got)
    assert video_dest.read_bytes() == video
