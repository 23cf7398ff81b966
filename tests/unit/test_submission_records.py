"""The submissions kept in ``state_dir/submissions.db`` (store.submissions): one per
Idempotency-Key, read back after a restart, with what was decided of their files."""

from __future__ import annotations

import stat
from pathlib import Path

from viggle_watch.store.submissions import Decided, Submission, SubmissionStore, SubmittedFile

FILE = SubmittedFile("hero.png", "../hero.png", "/w/hero.png", 10, "ab" * 32, 1, 2)


def test_a_submission_is_read_back_by_id_and_key_after_a_restart(tmp_path: Path) -> None:
    """A new store on the same folder (a restarted service) reads what the first kept."""
    state = tmp_path / "state"
    sub = Submission("s1", "dance", 100.0, (FILE,), "key-1")
    assert SubmissionStore(state).add(sub) == sub
    again = SubmissionStore(state)
    assert (again.get("s1"), again.by_key("key-1"), again.get("s2")) == (sub, sub, None)
    assert stat.S_IMODE((state / "submissions.db").stat().st_mode) & 0o007 == 0


def test_a_key_used_already_keeps_the_first_submission(tmp_path: Path) -> None:
    """Two submissions with one key (sent twice at once): the first is answered for both."""
    store = SubmissionStore(tmp_path)
    first = Submission("s1", "dance", 1.0, (FILE,), "k")
    assert store.add(first) == first
    assert store.add(Submission("s2", "dance", 2.0, (FILE,), "k")) == first
    assert store.get("s2") is None
    loose = [Submission(f"s{i}", "dance", 3.0, (FILE,)) for i in (3, 4)]  # no key: no repeat
    assert [store.add(s) for s in loose] == loose


def test_what_was_decided_of_a_file_is_kept(tmp_path: Path) -> None:
    """By the file's path; deciding for an unknown submission changes nothing."""
    store = SubmissionStore(tmp_path)
    store.add(Submission("s1", "dance", 1.0, (FILE,)))
    decided = Decided("duplicate", "duplicate", "nothing new", (4, 7))
    store.decide("s1", FILE.path, decided)
    store.decide("nope", FILE.path, decided)  # an unknown submission: nothing happens
    found = store.get("s1")
    assert found is not None and dict(found.decided) == {FILE.path: decided}


def test_a_store_nothing_was_submitted_to_makes_no_file(tmp_path: Path) -> None:
    """Reading (GET of an unknown id) never creates the database."""
    store = SubmissionStore(tmp_path / "state")
    assert (store.get("x"), store.by_key("k")) == (None, None)
    assert not (tmp_path / "state").exists()
