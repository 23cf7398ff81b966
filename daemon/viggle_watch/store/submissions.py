"""Submissions (issue 18; docs/web.md#submissions): files handed to a rule over HTTP, kept so
that ``GET /api/v1/submissions/{id}`` answers after a restart too.

In a SQLite file of its own beside the job store (``state_dir/submissions.db``), local to the
host even when the job store is shared: the paths are this host's. What the intake made of the
files is not copied here (the job store and the folders say it), except a refusal or a
duplicate once seen, so that the answer stays when someone moves the file on from ``failed/``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, Literal

from viggle_watch.errors import StoreError
from viggle_watch.statedir import keep_private, make_state_dir
from viggle_watch.store.backend import Backend

FILE_NAME: Final = "submissions.db"
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS submissions (id TEXT PRIMARY KEY, rule TEXT NOT NULL,"
    " created_at REAL NOT NULL, idempotency_key TEXT UNIQUE, files_json TEXT NOT NULL,"
    " decided_json TEXT NOT NULL DEFAULT '{}')"
)


@dataclass(frozen=True, slots=True)
class SubmittedFile:
    """One file of a submission, as it was placed in the rule's watch folder."""

    name: str  # its name in the watch folder
    sent_as: str  # the name the client gave
    path: str
    size: int
    sha256: str
    device: int  # with ``inode``: the file wherever the intake files it (a rename keeps both)
    inode: int


@dataclass(frozen=True, slots=True)
class Decided:
    """What the intake made of a file without a job, once seen: kept for later answers."""

    state: Literal["refused", "duplicate"]
    code: str
    reason: str
    duplicate_of: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Submission:
    id: str
    rule: str
    created_at: float  # the service's clock: jobs made from its files are made after
    files: tuple[SubmittedFile, ...]
    key: str | None = None  # the client's Idempotency-Key
    decided: Mapping[str, Decided] = field(default_factory=dict)  # by the file's path


class SubmissionStore:
    """The submissions of this host; every method is one short transaction (thread-safe: a
    connection per call, as web requests run on a pool of threads)."""

    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / FILE_NAME
        self._made = False
        self._lock = threading.Lock()

    def add(self, submission: Submission) -> Submission:
        """Keep ``submission``; when its Idempotency-Key was used already, keep nothing and
        return the submission that used it."""
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO submissions (id, rule, created_at, idempotency_key, files_json)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    submission.id,
                    submission.rule,
                    submission.created_at,
                    submission.key,
                    json.dumps([asdict(f) for f in submission.files]),
                ),
            )
        kept = self.by_key(submission.key) if submission.key else self.get(submission.id)
        assert kept is not None
        return kept

    def get(self, submission_id: str) -> Submission | None:
        return self._one("id", submission_id)

    def by_key(self, key: str) -> Submission | None:
        return self._one("idempotency_key", key)

    def decide(self, submission_id: str, path: str, decided: Decided) -> None:
        """Keep what the intake made of the file at ``path`` (a refusal or a duplicate)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT decided_json FROM submissions WHERE id = ?", (submission_id,)
            ).fetchone()
            if row is None:
                return
            kept = json.loads(row[0])
            kept[path] = asdict(decided)
            conn.execute(
                "UPDATE submissions SET decided_json = ? WHERE id = ?",
                (json.dumps(kept), submission_id),
            )

    def _one(self, column: Literal["id", "idempotency_key"], value: str) -> Submission | None:
        if not self._path.exists():
            return None  # nothing submitted yet: a read never makes the file
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT * FROM submissions WHERE {column} = ?",  # noqa: S608 — a Literal
                (value,),
            ).fetchone()
        return _submission(row) if row else None

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._open() as conn:
                yield conn
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self._path}: {exc}") from None

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._made:
                make_state_dir(self._path.parent)
                new = not self._path.exists()
                with closing(sqlite3.connect(self._path)) as conn:
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.execute(_SCHEMA)
                if new:
                    keep_private(self._path)  # paths of inputs: not for every user
                self._made = True
        with closing(sqlite3.connect(self._path, timeout=10)) as conn:
            conn.row_factory = sqlite3.Row
            with conn:  # one transaction: committed on exit, rolled back on error
                yield conn


def _submission(row: sqlite3.Row) -> Submission:
    decided = {
        path: Decided(d["state"], d["code"], d["reason"], tuple(d["duplicate_of"]))
        for path, d in json.loads(row["decided_json"]).items()
    }
    return Submission(
        id=row["id"],
        rule=row["rule"],
        created_at=float(row["created_at"]),
        files=tuple(SubmittedFile(**f) for f in json.loads(row["files_json"])),
        key=row["idempotency_key"],
        decided=decided,
    )


def jobs_with_input(db: Backend, rule: str, sha256: str, limit: int = 5) -> list[int]:
    """The first jobs of ``rule`` that render the file with this content (the jobs a duplicate
    repeats). A scan of the rule's jobs: asked once per duplicate, whose answer is then kept."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT id FROM jobs WHERE rule = ? AND request_json LIKE ? ORDER BY id LIMIT ?",
            (rule, f'%"sha256": "{sha256}"%', limit),
        ).fetchall()
    return [int(r[0]) for r in rows]
