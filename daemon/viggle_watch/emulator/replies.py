"""What the emulator answers: replies and rejections as values, rendered to HTTP at the edge.

Handlers return a :class:`Reply` (a JSON body) or a :class:`Rejection` (an error); only
:func:`api_response` knows the two wire dialects: the current one (flat bodies, errors as
``{"detail": {...}}``, a plain-string ``detail`` or a FastAPI-style list) and the legacy one
(``{"data": ...}`` envelopes and errors with top-level ``error_code`` / ``message``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from viggle_watch.emulator.wire import HttpResponse, json_response

CODE_FAST_UNAVAILABLE: Final = "CS-UORC01-001"
CODE_INVALID: Final = "CS-UORC01-002"
CODE_NO_KEY: Final = "CS-UORC01-006"
CODE_BAD_KEY: Final = "CS-UORC01-007"
CODE_NO_CREDITS: Final = "CS-UORC01-008"
CODE_NO_IMAGE: Final = "CS-ORIV-001"
CODE_NO_VIDEO: Final = "CS-ORIV-002"
CODE_VIDEO_FORMAT: Final = "CS-ORIV-003"
CODE_VIDEO_TOO_LONG: Final = "CS-ORIV-004"
CODE_VIDEO_TOO_BIG: Final = "CS-ORIV-005"
CODE_VIDEO_TOO_WIDE: Final = "CS-ORIV-006"
CODE_VIDEO_UNREADABLE: Final = "CS-ORIV-007"
CODE_NO_CHARACTER: Final = "CS-ORIV-008"
CODE_NO_SCENE: Final = "CS-ORIV-009"
CODE_NOT_READY: Final = "CS-ORIV-010"
CODE_BACKGROUND: Final = "CS-ORIV-011"
CODE_MAPPING: Final = "CS-ORIV-012"
CHECK_PARAMETERS: Final = "Check your request parameters"
MISSING_KEY_DETAIL: Final = "API key required. Use Authorization: Bearer sk-xxx"
Shape = Literal["object", "string", "list"]


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful JSON answer."""

    body: object
    status: int = 200


@dataclass(frozen=True, slots=True)
class Rejection:
    """An error answer. ``shape`` picks the ``detail`` form of spec §4; ``field`` names the
    missing form field of a ``list`` (FastAPI 422) detail."""

    status: int
    code: str | None
    message: str
    action: str = CHECK_PARAMETERS
    shape: Shape = "object"
    field: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def invalid(message: str, action: str = CHECK_PARAMETERS) -> Rejection:
    """A 400 ``CS-UORC01-002`` (generic validation failure)."""
    return Rejection(400, CODE_INVALID, message, action)


def rejected(code: str, message: str, action: str = CHECK_PARAMETERS) -> Rejection:
    """A 400 with a documented input error code."""
    return Rejection(400, code, message, action)


def not_found(what: str) -> Rejection:
    """A 404 for an unknown or deleted job, character, scene or template."""
    return Rejection(404, CODE_INVALID, f"{what} not found", f"Check the {what.lower()} id")


def insufficient_credits(needed: float, balance: float) -> Rejection:
    """The 402 of spec §3 with the error-codes page's code."""
    message = f"Insufficient credits to start this job: needs {needed:g}, balance {balance:g}"
    return Rejection(402, CODE_NO_CREDITS, message, "Buy credits in the Viggle dashboard")


def missing_field(field: str) -> Rejection:
    """A FastAPI-style 422 with a list ``detail`` for a missing required form field."""
    return Rejection(422, None, "field required", shape="list", field=field)


def error_body(rejection: Rejection, *, legacy: bool) -> dict[str, object]:
    """The JSON body of ``rejection`` in the current or the legacy dialect."""
    if legacy:
        body: dict[str, object] = {"message": rejection.message, "action": rejection.action}
        if rejection.code is not None:
            body["error_code"] = rejection.code
        return body
    if rejection.shape == "string":
        return {"detail": rejection.message}
    if rejection.shape == "list":
        loc = ["body", rejection.field or "body"]
        return {"detail": [{"loc": loc, "msg": rejection.message, "type": "value_error.missing"}]}
    return {
        "detail": {
            "error_code": rejection.code,
            "message": rejection.message,
            "action": rejection.action,
        }
    }


def api_response(result: Reply | Rejection, *, legacy: bool) -> HttpResponse:
    """Render a handler's result in the dialect in force."""
    if isinstance(result, Reply):
        body = {"data": result.body} if legacy else result.body
        return json_response(body, result.status)
    return json_response(error_body(result, legacy=legacy), result.status, result.headers)


def bad_gateway(status: int) -> HttpResponse:
    """A 502/503 as a proxy sends it: an HTML page, not JSON."""
    title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}[status]
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"
    return HttpResponse(status, page.encode(), content_type="text/html; charset=utf-8")
