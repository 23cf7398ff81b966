"""Drift: the emulator answering as the real API might, where the public docs leave room — the
corpus the client is held to (issue 15). ``Faults.drift`` names one variant (``sim --drift
NAME``, ``POST /_sim/drift``); it reshapes the successful answers of ``/api/*`` as they leave.

Variants marked *odd* make some calls fail (a page that is not JSON, a field the step needs
missing): the client must end each such job with a reason in words, never pay twice, and keep
every other job moving. The others the client must simply read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from viggle_watch.emulator.wire import HttpResponse, json_response

Body = object
Shape = Callable[[str, Body], Body]  # (endpoint, body) → the body as sent
Page = Callable[[str, Body], HttpResponse | None]  # or a whole answer instead (None: no)


@dataclass(frozen=True, slots=True)
class Variant:
    says: str  # what it is, for `sim --help` and reports
    odd: bool = False  # some answers cannot be read: jobs end with a reason, none paid twice
    shape: Shape | None = None  # reshapes the JSON body
    page: Page | None = None  # or answers otherwise


def _walk(body: Body, leaf: Callable[[str, object], object]) -> Body:
    if isinstance(body, dict):
        return {
            k: _walk(v, leaf) if isinstance(v, dict | list) else leaf(k, v) for k, v in body.items()
        }
    if isinstance(body, list):
        return [_walk(v, leaf) for v in body]
    return body


def _numbers_as_strings(_e: str, body: Body) -> Body:
    return _walk(
        body, lambda _k, v: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
    )


def _extra_everywhere(_e: str, body: Body) -> Body:
    def add(node: Body) -> Body:
        if isinstance(node, dict):
            return {**{k: add(v) for k, v in node.items()}, "x_trace": {"id": "t-1", "n": 2}}
        if isinstance(node, list):
            return [add(v) for v in node]
        return node

    return add(body)


def _envelope(_e: str, body: Body) -> Body:
    return {"data": body, "success": True}


def _minimal(endpoint: str, body: Body) -> Body:
    keep = {
        "render_create": {"job_id"},
        "render_status": {"status", "cdn_url", "mask_cdn_url", "error_code", "error_message"},
        "credits": {"balance"},
        "character_create": {"character_id", "id"},
        "character_get": {"id", "status"},
        "scene_import": {"scene_id", "id"},
        "scene_create": {"scene_id", "id"},
        "scene_get": {"id", "status", "duration_seconds"},
    }.get(endpoint)
    if keep is None or not isinstance(body, dict):
        return body
    return {k: v for k, v in body.items() if k in keep and v is not None}


def _nulls(endpoint: str, body: Body) -> Body:
    """Every optional string the client does not need is null."""
    if not isinstance(body, dict):
        return body
    needed = {"job_id", "status", "cdn_url", "mask_cdn_url", "id", "character_id", "scene_id"}
    return {k: (v if k in needed or not isinstance(v, str) else None) for k, v in body.items()}


def _renamed_status(names: Mapping[str, str]) -> Shape:
    def shape(endpoint: str, body: Body) -> Body:
        if endpoint != "render_status" or not isinstance(body, dict):
            return body
        status = body.get("status")
        return {**body, "status": names.get(str(status), status)}

    return shape


def _without(field: str, endpoint_name: str, *also: str) -> Shape:
    def shape(endpoint: str, body: Body) -> Body:
        if endpoint != endpoint_name or not isinstance(body, dict):
            return body
        return {k: v for k, v in body.items() if k not in (field, *also)}

    return shape


def _page(status: int, text: bytes, content_type: str, endpoint_name: str) -> Page:
    def page(endpoint: str, _body: Body) -> HttpResponse | None:
        return HttpResponse(status, text, content_type) if endpoint == endpoint_name else None

    return page


def _truncated(endpoint_name: str) -> Page:
    def page(endpoint: str, body: Body) -> HttpResponse | None:
        if endpoint != endpoint_name:
            return None
        text = json.dumps(body).encode()
        return HttpResponse(200, text[: len(text) // 2], "application/json")

    return page


def _progress_percent(endpoint: str, body: Body) -> Body:
    if endpoint != "render_status" or not isinstance(body, dict):
        return body
    pct = body.get("progress_pct")
    return {**body, "progress_pct": f"{pct:.0f}%" if isinstance(pct, int | float) else pct}


def _checkpoint_object(endpoint: str, body: Body) -> Body:
    if endpoint != "render_status" or not isinstance(body, dict):
        return body
    return {**body, "checkpoint": {"name": body.get("checkpoint"), "step": 2}}


def _lists_null(endpoint: str, body: Body) -> Body:
    if endpoint not in ("character_list", "scene_list") or not isinstance(body, dict):
        return body
    return {k: (None if isinstance(v, list) else v) for k, v in body.items()}


def _nested(endpoint: str, body: Body) -> Body:
    """The status inside an object of its own: `{"job": {...}}`."""
    return {"job": body} if endpoint == "render_status" else body


def _renamed_url(endpoint: str, body: Body) -> Body:
    if endpoint != "render_status" or not isinstance(body, dict):
        return body
    out = {k: v for k, v in body.items() if k not in ("cdn_url", "download_url")}
    if body.get("cdn_url"):
        out["video_url"] = body["cdn_url"]
    return out


def _upper_status(endpoint: str, body: Body) -> Body:
    if endpoint != "render_status" or not isinstance(body, dict):
        return body
    return {**body, "status": str(body.get("status", "")).upper()}


def _with_status(code: int, endpoint_name: str) -> Page:
    def page(endpoint: str, body: Body) -> HttpResponse | None:
        if endpoint != endpoint_name:
            return None
        return json_response(body, code)

    return page


def _bom(_e: str, body: Body) -> HttpResponse:
    return HttpResponse(200, b"\xef\xbb\xbf" + json.dumps(body).encode(), "application/json")


def _as_text_plain(_e: str, body: Body) -> HttpResponse:
    return HttpResponse(200, json.dumps(body).encode(), "text/plain")


def _trailing_garbage(endpoint_name: str) -> Page:
    def page(endpoint: str, body: Body) -> HttpResponse | None:
        if endpoint != endpoint_name:
            return None
        return HttpResponse(200, json.dumps(body).encode() + b"\n<!-- cache -->", "text/html")

    return page


def _dates_as_numbers(_e: str, body: Body) -> Body:
    if not isinstance(body, dict):
        return body
    return {k: (1_765_000_000 if k.endswith("_at") and v else v) for k, v in body.items()}


def _balance_with_commas(endpoint: str, body: Body) -> Body:
    if endpoint != "credits" or not isinstance(body, dict):
        return body
    return {k: (f"{v:,.0f}" if k in ("balance", "credits") else v) for k, v in body.items()}


def _error_object(endpoint: str, body: Body) -> Body:
    if endpoint != "render_status" or not isinstance(body, dict) or not body.get("error"):
        return body
    return {**body, "error": {"code": body.get("error_code"), "text": body.get("error")}}


def _slow(endpoint_name: str, seconds: float) -> Page:
    def page(endpoint: str, _body: Body) -> HttpResponse | None:
        if endpoint == endpoint_name:
            time.sleep(seconds)  # then the answer as it is
        return None

    return page


HTML: Final = b"<html><body><h1>Welcome to our proxy</h1><p>Sign in to continue</p></body></html>"
VARIANTS: Final[Mapping[str, Variant]] = {
    "none": Variant("answers as the public docs show"),
    "minimal": Variant("only the fields each step needs", shape=_minimal),
    "extra-fields": Variant("unknown fields at every level", shape=_extra_everywhere),
    "numbers-as-strings": Variant("every number sent as a string", shape=_numbers_as_strings),
    "envelope": Variant("every answer wrapped in {data: ...}", shape=_envelope),
    "nulls": Variant("null for every optional string", shape=_nulls),
    "status-new-words": Variant(
        "processing is 'in_progress', queued is 'waiting' (unknown words: still working)",
        shape=_renamed_status({"processing": "in_progress", "queued": "waiting"}),
    ),
    "progress-percent": Variant(
        "progress as a string with a percent sign", shape=_progress_percent
    ),
    "checkpoint-object": Variant("checkpoint as an object", shape=_checkpoint_object),
    "lists-null": Variant("an empty list sent as null", shape=_lists_null),
    "submit-201": Variant(
        "a submission answered 201 Created", page=_with_status(201, "render_create")
    ),
    "submit-202": Variant(
        "a submission answered 202 Accepted", page=_with_status(202, "render_create")
    ),
    "utf8-bom": Variant("JSON after a UTF-8 byte-order mark", page=lambda e, b: _bom(e, b)),
    "text-plain": Variant(
        "JSON sent as Content-Type text/plain", page=lambda e, b: _as_text_plain(e, b)
    ),
    "legacy-words": Variant(
        "the old pages' status words: pending, rendering, merging",
        shape=_renamed_status({"queued": "pending", "processing": "rendering"}),
    ),
    "dates-as-numbers": Variant("times as epoch numbers", shape=_dates_as_numbers),
    "error-object": Variant("a failure's error as an object", shape=_error_object),
    "slow-status": Variant(
        "a render's status answered after 0.5 s", page=_slow("render_status", 0.5)
    ),
    "balance-with-commas": Variant(
        "the balance as '10,000' (the balance is read for the budget only)",
        odd=True,
        shape=_balance_with_commas,
    ),
    "status-nested": Variant("a render's status inside {job: ...}", odd=True, shape=_nested),
    "status-uppercase": Variant("status words in capitals: COMPLETE", shape=_upper_status),
    "status-padded": Variant(
        "status words with spaces around them",
        shape=_renamed_status({"processing": " processing ", "complete": "complete "}),
    ),
    "result-url-renamed": Variant(
        "a complete render's video at `video_url`, not `cdn_url`",
        odd=True,
        shape=_renamed_url,
    ),
    "status-trailing-garbage": Variant(
        "a render's status followed by an HTML comment",
        odd=True,
        page=_trailing_garbage("render_status"),
    ),
    "status-missing": Variant(
        "a render's status answer without `status`",
        odd=True,
        shape=_without("status", "render_status"),
    ),
    "status-html": Variant(
        "a render's status answered 200 with a proxy's HTML page",
        odd=True,
        page=_page(200, HTML, "text/html", "render_status"),
    ),
    "status-empty": Variant(
        "a render's status answered 200 with an empty body",
        odd=True,
        page=_page(200, b"", "application/json", "render_status"),
    ),
    "status-truncated": Variant(
        "a render's status answered with half a JSON document",
        odd=True,
        page=_truncated("render_status"),
    ),
    "submit-html": Variant(
        "a render's submission answered 200 with an HTML page (it may have been charged)",
        odd=True,
        page=_page(200, HTML, "text/html", "render_create"),
    ),
    "submit-no-id": Variant(
        "a render's submission answered without a job id",
        odd=True,
        shape=_without("job_id", "render_create"),
    ),
    "credits-missing": Variant(
        "the balance answered without `balance` (or `credits`)",
        odd=True,
        shape=_without("balance", "credits", "credits"),
    ),
}


def drifted(name: str, endpoint: str, body: Body, status: int) -> HttpResponse | None:
    """The answer as variant ``name`` sends it; None: as it is."""
    variant = VARIANTS.get(name)
    if variant is None or name == "none":
        return None
    if variant.page is not None:
        answer = variant.page(endpoint, body)
        if answer is not None:
            return answer
    if variant.shape is not None:
        return json_response(variant.shape(endpoint, body), status)
    return None
