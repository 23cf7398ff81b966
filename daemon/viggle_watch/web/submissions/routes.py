"""``POST /api/v1/submissions`` and ``GET /api/v1/submissions/{id}`` (issue 18;
docs/web.md#submissions): files handed to a rule over HTTP take the path a dropped file takes
(validation, pairing, dedup, budget), so a submission is answered 202 at once; its outcome is
read later from the job store and the folders. The dashboard's drag-and-drop calls
:func:`submit` too."""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import structlog
from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect

from viggle_watch.config import Rule
from viggle_watch.config.kinds import size_words
from viggle_watch.errors import StoreError
from viggle_watch.store.backend import Backend
from viggle_watch.store.submissions import Submission, SubmissionStore
from viggle_watch.web.submissions.look import answer
from viggle_watch.web.submissions.naming import group_refusal
from viggle_watch.web.submissions.receive import Reader, Refusal, Upload, place, sweep

log = structlog.get_logger()
PATH: Final = "/api/v1/submissions"
_KEY: Final = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as Stripe and the IETF draft
FORM: Final = {  # the request body in the OpenAPI document (it is parsed by hand, streaming)
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["rule", "file"],
                "properties": {
                    "rule": {"type": "string", "description": "a configured rule's name"},
                    "file": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "one or more files, after the rule field",
                    },
                },
            }
        }
    },
}


@dataclass(frozen=True, slots=True)
class Desk:
    """What submissions need, handed in by the composition root."""

    rules: Callable[[], Mapping[str, Rule]]  # the rules now (a reload swaps them)
    records: SubmissionStore
    open_db: Callable[[bool], Backend | None]  # (readonly) → the job store, None before a run
    clock: Callable[[], float]  # the service's: jobs are stamped by it too
    max_upload: int  # bytes of one request body (web.max_upload)
    settle_s: float
    lock: threading.Lock = field(default_factory=threading.Lock)  # one commit at a time
    swept: set[Path] = field(default_factory=set)  # folders cleared of stale temp files


class Replay(Exception):  # noqa: N818 — an answer, not a failure
    """The Idempotency-Key was used already: answer that submission, write nothing."""

    def __init__(self, submission: Submission) -> None:
        super().__init__(submission.id)
        self.submission = submission


def install(app: FastAPI, desk: Desk) -> None:
    @app.post(PATH, status_code=202, openapi_extra={"requestBody": FORM})
    async def submit_files(request: Request) -> JSONResponse:
        """Hand files to a rule (multipart: ``rule``, then one or more ``file``); 202 with
        the submission's id at once. An ``Idempotency-Key`` answers a repeat with the same
        submission (nothing written again)."""
        try:
            body, replayed = await submit(request, desk)
        except Refusal as refused:
            log.info("submission_refused", status=refused.status, reason=refused.words)
            return JSONResponse({"detail": refused.words}, status_code=refused.status)
        headers = {"Location": f"{PATH}/{body['id']}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(body, status_code=202, headers=headers)

    @app.get(PATH + "/{submission_id}")
    def submission(submission_id: str) -> dict[str, Any]:
        """A submission: ``pending`` (and what it waits for), ``accepted`` (its jobs),
        ``refused`` (the reason), or ``duplicate`` (nothing new to render)."""
        try:
            found = desk.records.get(submission_id)
        except StoreError as exc:
            raise HTTPException(503, f"the submissions cannot be read: {exc}") from None
        if found is None:
            raise HTTPException(404, f"there is no submission {submission_id}")
        return look(desk, found)


def look(desk: Desk, sub: Submission) -> dict[str, Any]:
    """The submission as the API shows it now."""
    db = desk.open_db(True)
    try:
        return answer(sub, rules=desk.rules(), db=db, records=desk.records, settle_s=desk.settle_s)
    finally:
        if db is not None:
            db.close()


async def submit(request: Request, desk: Desk) -> tuple[dict[str, Any], bool]:
    """Receive the files of ``request`` into their rule's watch folder: (the submission as
    ``GET`` shows it, whether it was an Idempotency-Key's repeat); answered 202. Raises
    :class:`Refusal` with the status and words; a refused submission leaves no file."""
    key = _key(request.headers.get("idempotency-key"))
    reader = Reader(_boundary(request), lambda name: _choose(desk, name, key))
    body = request.stream()  # one reader of the body: a repeat drains what is left of it
    try:
        await _read(request, body, reader, desk.max_upload)
        rule, uploads = reader.rule, reader.uploads
        if rule is None:
            raise Refusal(422, "no rule field: send rule, then one or more file parts")
        why = group_refusal([u.name for u in uploads], rule)
        if why is not None:
            raise Refusal(422, why)
        sub, replayed = await run_in_threadpool(_commit, desk, key, rule, uploads)
    except Replay as repeat:
        reader.discard()
        with contextlib.suppress(ClientDisconnect):
            await _drain(body, desk.max_upload)
        sub, replayed = repeat.submission, True
    except ClientDisconnect:
        reader.discard()
        raise Refusal(400, "the client went away before the upload was complete") from None
    except MultipartParseError as exc:
        reader.discard()
        raise Refusal(400, f"not a multipart/form-data body that can be read: {exc}") from None
    except StoreError as exc:  # the submissions cannot be read (Idempotency-Key)
        reader.discard()
        raise Refusal(503, f"the submissions cannot be read: {exc}") from None
    except BaseException:
        await run_in_threadpool(reader.discard)
        raise
    if replayed:
        reader.discard()  # a repeat that arrived while the first was being written
    return await run_in_threadpool(look, desk, sub), replayed


async def _read(request: Request, body: AsyncIterator[bytes], reader: Reader, limit: int) -> None:
    """Feed the body to ``reader`` as it streams in; over ``limit`` bytes: refused (413)."""
    too_big = Refusal(413, f"the upload is over web.max_upload ({size_words(limit)})")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_big  # said before a byte is read
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > limit:
            raise too_big
        if chunk:
            await run_in_threadpool(reader.feed, chunk)
    await run_in_threadpool(reader.finish)


async def _drain(body: AsyncIterator[bytes], limit: int) -> None:
    """Read what a repeat still sends (a client may not read an answer until it has sent
    everything), up to ``limit`` bytes."""
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > limit:
            return


def _commit(
    desk: Desk, key: str | None, rule: Rule, uploads: list[Upload]
) -> tuple[Submission, bool]:
    """Put the files in place and keep the submission; a key used meanwhile (the same
    request sent twice at once) keeps the first, and these files are not placed."""
    with desk.lock:
        if key is not None and (first := desk.records.by_key(key)) is not None:
            return first, True
        created = desk.clock()  # before the files appear: every job of theirs comes after
        try:
            files = place(uploads, rule)
        except OSError as exc:
            raise Refusal(503, f"cannot put the files in {rule.watch}: {exc.strerror}") from None
        sub = Submission(secrets.token_urlsafe(16), rule.name, created, tuple(files), key)
        try:
            kept = desk.records.add(sub)
        except StoreError as exc:  # the files are in place: they are taken as dropped files
            log.error("submission_not_kept", rule=rule.name, reason=str(exc))
            placed = ", ".join(f.name for f in files)
            raise Refusal(
                503,
                f"{placed} are in the watch folder and will be taken as dropped files, but the"
                f" submission could not be kept ({exc}): there is no id to ask about",
            ) from None
        log.info(
            "submission_received",
            submission=kept.id,
            rule=rule.name,
            files=[f.name for f in files],
            size=sum(f.size for f in files),
        )
        return kept, False


def _choose(desk: Desk, name: str, key: str | None) -> Rule:
    """The rule a submission names (before any of its files is written)."""
    rules = desk.rules()
    rule = rules.get(name)
    if rule is None:
        known = ", ".join(sorted(rules)) or "none"
        raise Refusal(422, f"there is no rule {name!r}; the rules configured: {known}")
    if key is not None and (first := desk.records.by_key(key)) is not None:
        if first.rule != name:
            raise Refusal(
                409, f"this Idempotency-Key was used for submission {first.id} to rule {first.rule}"
            )
        raise Replay(first)
    if not rule.watch.is_dir():
        raise Refusal(503, f"the watch folder {rule.watch} of rule {name} is not there")
    if rule.watch not in desk.swept:
        sweep(rule.watch)
        desk.swept.add(rule.watch)
    return rule


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Refusal(415, "send multipart/form-data: a rule field, then one or more file parts")
    return boundary


def _key(given: str | None) -> str | None:
    if given is None:
        return None
    if not _KEY.match(given):
        raise Refusal(400, "an Idempotency-Key is 1 to 255 visible ASCII characters")
    return given
