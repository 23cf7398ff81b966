"""A watch folder deleted and made again is watched again (issue 14 §15): its old watch sees
nothing of the new folder, so the service compares each folder's (device, inode) every few
seconds, says when one is gone, and re-arms and scans it when it is back — long before the
5-minute rescan. A real service in this process, with its threads and observers."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.drills.service import in_process
from tests.support.waits import wait_for
from tests.support.workspace import MakeConfig, Workspace
from viggle_watch.media.synth import make_character_png
from viggle_watch.watch.roots import RootChanges, changed


def test_the_decision() -> None:
    a, b, c = Path("/a"), Path("/b"), Path("/c")
    armed = {a: (1, 10), b: (1, 20), c: None}
    now = {a: None, b: (1, 21), c: (1, 30)}
    assert changed(armed, now) == RootChanges(gone=(a,), back=(b, c))
    assert changed(armed, dict(armed)) == RootChanges((), ())


def test_a_folder_deleted_and_made_again_is_watched_again(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    config = make_config("http://127.0.0.1:9")
    with in_process(config.source) as service:
        shutil.rmtree(workspace.watch)
        wait_for(lambda: service._armed.get(workspace.watch, 0) is None, timeout_s=15)
        workspace.watch.mkdir()
        make_character_png(workspace.watch / "hero.png")
        wait_for(lambda: sum(service.store.counts().values()) == 1, timeout_s=20)
