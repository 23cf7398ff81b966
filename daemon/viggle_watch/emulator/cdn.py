"""The emulator's CDN: signed result URLs, and downloads with Range, expiry and faults.

A result URL is ``/cdn/{job_id}.mp4`` (``.mask.mp4`` for the alpha video of a transparent
render) with ``sig`` = HMAC of the name and ``exp`` (epoch seconds on the emulator's clock).
URLs are signed afresh on every status GET. ``exp`` is enforced only while
``Faults.cdn_expiry_s`` is set. The videos are generated (small real MP4s as long as the
render's output) and cached by length; while ``Faults.broken_output`` is set, every one is
spoiled that way (and served whole: a cut file's Content-Length is its cut size).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from viggle_watch.emulator.faults import FaultInjector
from viggle_watch.emulator.jobs import Job, JobStatus, ResultUrls
from viggle_watch.emulator.replies import CODE_INVALID, Rejection, error_body
from viggle_watch.emulator.state import EmulatorState
from viggle_watch.emulator.wire import HttpRequest, HttpResponse, json_response
from viggle_watch.media.synth import RESULT_FPS, breaks, make_result_mp4

NOMINAL_TTL_S: Final = 3600
"""``exp`` of URLs issued while no expiry is enforced."""
_MASK_SUFFIX: Final = ".mask.mp4"
_VIDEO_SUFFIX: Final = ".mp4"
_SIG_HEX: Final = 32
TRANSPARENT: Final = "transparent"
_RANGE: Final = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``stop`` (exclusive) of a file."""

    start: int
    stop: int


UNSATISFIABLE: Final = ByteRange(-1, -1)


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a ``Range`` header asks of a ``size``-byte file.

    None means "send the whole file" (no header, a malformed one, or several ranges, which
    RFC 9110 lets a server ignore); :data:`UNSATISFIABLE` means answer 416.
    """
    match = _RANGE.match((header or "").strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        count = int(last)
        return UNSATISFIABLE if count == 0 or size == 0 else ByteRange(max(0, size - count), size)
    start = int(first)
    stop = size if last == "" else min(size, int(last) + 1)
    if last != "" and int(last) < start:
        return None
    return UNSATISFIABLE if start >= size else ByteRange(start, stop)


@functools.lru_cache(maxsize=64)
def _result_video(frames: int, mask: bool, broken: str) -> bytes:
    return make_result_mp4(frames / RESULT_FPS, mask=mask, broken=broken)


def result_video(seconds: float, *, mask: bool, broken: str = "none") -> bytes:
    """The output (or mask) MP4 of a render ``seconds`` long, spoiled as ``broken`` says;
    cached by length in frames."""
    return _result_video(max(1, round(seconds * RESULT_FPS)), mask, broken)


def _parse_name(name: str) -> tuple[str, bool] | None:
    """``(job_id, is_mask)`` from a CDN file name, or None."""
    if name.endswith(_MASK_SUFFIX):
        return name.removesuffix(_MASK_SUFFIX), True
    if name.endswith(_VIDEO_SUFFIX):
        return name.removesuffix(_VIDEO_SUFFIX), False
    return None


class Cdn:
    """Signs result URLs and answers ``GET /cdn/{name}``."""

    def __init__(self, state: EmulatorState, injector: FaultInjector, secret: bytes) -> None:
        self._state = state
        self._injector = injector
        self._secret = secret

    def _sig(self, name: str, exp: str) -> str:
        mac = hmac.new(self._secret, f"{name}|{exp}".encode(), hashlib.sha256)
        return mac.hexdigest()[:_SIG_HEX]

    def _url(self, url_root: str, name: str) -> str:
        ttl_s = self._injector.faults.cdn_expiry_s
        issued = self._state.wall_epoch_s(self._state.now_s())
        exp = str(math.ceil(issued + (NOMINAL_TTL_S if ttl_s is None else ttl_s)))
        return f"{url_root}/cdn/{name}?sig={self._sig(name, exp)}&exp={exp}"

    def urls(self, job: Job, url_root: str) -> ResultUrls:
        """Freshly signed URLs of a complete job's video (and mask in transparent mode)."""
        mask = None
        if job.spec.background_mode == TRANSPARENT:
            mask = self._url(url_root, f"{job.job_id}{_MASK_SUFFIX}")
        return ResultUrls(video=self._url(url_root, f"{job.job_id}{_VIDEO_SUFFIX}"), mask=mask)

    def _expired(self, exp: str) -> bool:
        if self._injector.faults.cdn_expiry_s is None:
            return False
        try:
            deadline = float(exp)
        except ValueError:
            return True
        return self._state.wall_epoch_s(self._state.now_s()) > deadline

    def lookup(self, name: str, query: Mapping[str, str]) -> bytes | Rejection:
        """The bytes behind a signed CDN name, or the 404/403 that refuses it."""
        parsed = _parse_name(name)
        job = self._state.job(parsed[0]) if parsed else None
        ready = job is not None and job.progress(self._state.now_s()).status is JobStatus.COMPLETE
        if parsed is None or job is None or not ready:
            return Rejection(404, CODE_INVALID, "File not found", "Check the job is complete")
        if parsed[1] and job.spec.background_mode != TRANSPARENT:
            return Rejection(404, CODE_INVALID, "File not found", "Only transparent renders")
        sig, exp = query.get("sig", ""), query.get("exp", "")
        if not hmac.compare_digest(sig.encode(), self._sig(name, exp).encode()):
            return Rejection(403, CODE_INVALID, "Invalid signature", "Fetch a new URL")
        if self._expired(exp):
            self._state.count_fault("cdn_expiry")
            return Rejection(403, CODE_INVALID, "URL expired", "Fetch the job status again")
        broken = self._injector.faults.broken_output
        if breaks(broken, mask=parsed[1]):
            self._state.count_fault(f"broken_output:{broken}")
        return result_video(job.spec.output_s, mask=parsed[1], broken=broken)

    def respond(self, request: HttpRequest, name: str) -> HttpResponse:
        """Answer a download: Range honoured (unless ignored), maybe cut short."""
        if request.header("Authorization") is not None:
            self._state.count_cdn_request_with_auth()
        found = self.lookup(name, request.query)
        if isinstance(found, Rejection):
            return json_response(error_body(found, legacy=False), found.status)
        ignore_range = self._injector.faults.ignore_range
        wanted = requested_range(request.header("Range"), len(found))
        if wanted is not None and ignore_range:
            self._state.count_fault("ignore_range")
            wanted = None
        size = len(found)
        if wanted == UNSATISFIABLE:
            rejection = Rejection(416, CODE_INVALID, "Range Not Satisfiable", "Check the Range")
            refused = (("Content-Range", f"bytes */{size}"),)
            return json_response(error_body(rejection, legacy=False), 416, refused)
        # a CDN that ignores Range does not advertise it either
        headers: tuple[tuple[str, str], ...] = () if ignore_range else (("Accept-Ranges", "bytes"),)
        status, body = 200, found
        if wanted is not None:
            status, body = 206, found[wanted.start : wanted.stop]
            headers += (("Content-Range", f"bytes {wanted.start}-{wanted.stop - 1}/{size}"),)
        cut_after = None
        if self._injector.truncate_download():
            self._state.count_fault("truncate_download")
            cut_after = len(body) // 2
        return HttpResponse(status, body, "video/mp4", headers, cut_after=cut_after)
