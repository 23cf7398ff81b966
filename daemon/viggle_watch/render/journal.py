"""The local journal of answers the store has not taken yet: ``STATE_DIR/pending-outcomes.jsonl``
(docs/reliability.md §2.3). One JSON object a line (a render's answer, or with ``asset_kind``
an asset creation's), in the order the answers came; the whole
file is replaced (written, fsynced, renamed, its folder synced) whenever that list changes, and
removed once it is empty. Start-up reads it before anything else; a kill -9 loses nothing that
was in it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import structlog

from viggle_watch.outputs.atomic import fsync_dir, write_bytes_atomic
from viggle_watch.render.asset_answers import AssetAnswer
from viggle_watch.render.pending import JOURNAL as JOURNAL
from viggle_watch.render.unrecorded import Unrecorded
from viggle_watch.statedir import FILE_MODE, make_state_dir

log = structlog.get_logger()
Answer = Unrecorded | AssetAnswer  # a render's answer, or an asset creation's (``asset_kind``)
MAX_LINE_SHOWN: Final = 500  # an unreadable line is logged, cut to this many characters


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, answers: Sequence[Answer]) -> None:
        """The file holds exactly ``answers`` (none: no file). ``OSError`` if it cannot."""
        if not answers:
            if self.path.exists():
                self.path.unlink()
                fsync_dir(self.path.parent)
            return
        make_state_dir(self.path.parent)
        text = "".join(json.dumps(a.as_json(), sort_keys=True) + "\n" for a in answers)
        write_bytes_atomic(self.path, text.encode("utf-8"), mode=FILE_MODE)

    def load(self) -> list[Answer]:
        """The answers in the file (none without one); a line that cannot be read is logged
        with its text, so that the Viggle job id in it is not lost, and left out."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        answers: list[Answer] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                answers.append(_answer(json.loads(line)))
            except ValueError as exc:  # json.JSONDecodeError is one
                log.error(
                    "outcome_journal_line_unreadable",
                    path=str(self.path),
                    line=number,
                    reason=str(exc),
                    text=line[:MAX_LINE_SHOWN],
                    hint="look for the job and its Viggle id in it; `viggle-watch jobs resolve`",
                )
        return answers


def _answer(doc: object) -> Answer:
    if isinstance(doc, dict) and "asset_kind" in doc:
        return AssetAnswer.of_json(doc)
    return Unrecorded.of_json(doc)
