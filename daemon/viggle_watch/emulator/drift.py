"""Drift: the emulator answering as the real API might, where the public docs leave room — the
corpus the client is held to (issue 15). ``Faults.drift`` names one variant (``sim --drift
NAME``, ``POST /_sim/drift``); it reshapes the successful answers of ``/api/*`` as they leave.

Variants marked *odd* make some calls fail (a page that is not JSON, a field the step needs
missing): the client must end each such job with a reason in words, never pay twice, and keep
every other job moving. The others the client must simply read.
"""

from __future__ import annotations

import json
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
