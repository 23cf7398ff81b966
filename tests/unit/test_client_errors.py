"""Tests for viggle_watch.viggle.client (+ transport, schemas) over a fake HTTP adapter.

Each HTTP outcome maps to exactly one error type; the paid POST is never resent. What the
client sends on success, the retried GETs, downloads and the key: ``test_client_requests.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.transport import (
    BASE,
    Rig,
    connect_refused,
    dns_failure,
    render,
    reset_after_send,
    respond,
    summary,
)
from viggle_watch import errors

# --- error shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "detail": {
                    "error_code": "CS-UORC01-002",
                    "message": "Request failed validation",
                    "action": "Check your request parameters",
                }
            },
            (
                errors.RejectedError,
                "Request failed validation",
                "CS-UORC01-002",
                "Check your request parameters",
                400,
            ),
        ),
        (
            401,
            {
                "detail": "API key required. Use Authorization: Bearer sk-xxx"
            },  # the example token in the text is scrubbed too
            (errors.AuthError, "API key required. Use Authorization: Bearer ***", None, None, 401),
        ),
        (
            422,
            {
                "detail": [
                    {"loc": ["body", "model"], "msg": "field required", "type": "missing"},
                    {"loc": ["body", "x"], "msg": "bad value"},
                    "plain entry",
                ]
            },
            (errors.RejectedError, "field required; bad value; plain entry", None, None, 422),
        ),
        (
            402,
            {
                "error_code": "NO_CREDITS",
                "message": "Not enough credits",
                "action": "Buy",
            },
            (errors.CreditsError, "Not enough credits", "NO_CREDITS", "Buy", 402),
        ),
        (
            404,
            {"error": "job not found"},
            (errors.NotFoundError, "job not found", None, None, 404),
        ),
        (
            403,
            {"detail": {"error_code": "CS-UORC01-007", "message": "Invalid or expired API key"}},
            (errors.AuthError, "Invalid or expired API key", "CS-UORC01-007", None, 403),
        ),
        (
            400,
            {"detail": {"error_code": "CS-UORC01-001", "message": "Fast mode unavailable"}},
            (errors.FastUnavailableError, "Fast mode unavailable", "CS-UORC01-001", None, 400),
        ),
        (
            400,
            {"detail": []},
            (errors.RejectedError, "HTTP 400 from the Viggle API", None, None, 400),
        ),
        (
            409,
            ["not", "an", "object"],
            (errors.RejectedError, "HTTP 409 from the Viggle API", None, None, 409),
        ),
    ],
)
def test_every_error_shape_maps_to_a_typed_error(
    rig: Rig,
    status: int,
    body: object,
    expected: tuple[type[errors.ApiError], str, str | None, str | None, int | None],
) -> None:
    """detail object/string/list and top-level shapes give the right type, code and message."""
    rig.queue(respond(status, body))
    with pytest.raises(errors.ApiError) as excinfo:
        rig.client.get_render("job_1")
    assert (summary(excinfo.value), rig.sleeps, len(rig.transport.sent)) == (expected, [], 1)


def test_error_body_that_is_not_json_still_has_a_message(rig: Rig) -> None:
    """An HTML error page gives a generic message with the status."""
    rig.queue(respond(400, raw=b"<html>Bad Request</html>"))
    with pytest.raises(errors.RejectedError) as excinfo:
        rig.client.get_render("job_1")
    assert summary(excinfo.value) == (
        errors.RejectedError,
        "HTTP 400 from the Viggle API",
        None,
        None,
        400,
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.RejectedError),
        (401, errors.AuthError),
        (403, errors.AuthError),
        (402, errors.CreditsError),
        (404, errors.NotFoundError),
        (422, errors.RejectedError),
    ],
)
def test_paid_post_client_errors_map_by_status(
    rig: Rig, inputs: tuple[Path, Path], status: int, kind: type[errors.ApiError]
) -> None:
    """4xx answers to the paid POST say the request was not acted on, by type."""
    rig.queue(respond(status, {"detail": {"error_code": "E", "message": "no"}}))
    with pytest.raises(errors.ApiError) as excinfo:
        render(rig, inputs)
    assert summary(excinfo.value) == (kind, "no", "E", None, status)


@pytest.mark.parametrize(
    ("headers", "retry_after_s"),
    [({"Retry-After": "30"}, 30.0), ({"retry-after": "2.5"}, 2.5), ({}, None)],
)
def test_paid_post_429_is_throttled_with_retry_after(
    rig: Rig, inputs: tuple[Path, Path], headers: dict[str, str], retry_after_s: float | None
) -> None:
    """429 on the POST is ThrottledError carrying Retry-After (None when absent)."""
    rig.queue(respond(429, {"detail": "slow down"}, headers=headers))
    with pytest.raises(errors.ThrottledError) as excinfo:
        render(rig, inputs)
    assert (
        type(excinfo.value),
        excinfo.value.retry_after_s,
        excinfo.value.http_status,
        len(rig.transport.sent),
    ) == (errors.ThrottledError, retry_after_s, 429, 1)


def test_invalid_options_are_rejected_before_sending(rig: Rig, inputs: tuple[Path, Path]) -> None:
    """An unknown model is a client-side RejectedError; nothing is sent, nothing is paid."""
    with pytest.raises(errors.RejectedError) as excinfo:
        rig.client.create_render(*inputs, model="V9_Turbo")
    assert (summary(excinfo.value), rig.transport.sent) == (
        (
            errors.RejectedError,
            "unknown model 'V9_Turbo'; use one of ['V3_Preview', 'V4_Preview']",
            "client_validation",
            None,
            None,
        ),
        [],
    )


# --- the paid POST: never retried, outcome classified ----------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_paid_post_server_error_is_outcome_unknown_and_sent_once(
    rig: Rig, inputs: tuple[Path, Path], status: int
) -> None:
    """A 5xx to the POST may have been acted on: OutcomeUnknownError, exactly one request."""
    rig.queue(respond(status, {"detail": "oops"}), respond(200, {"job_id": "twice"}))
    with pytest.raises(errors.OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert (summary(excinfo.value), rig.urls, rig.sleeps) == (
        (errors.OutcomeUnknownError, "oops", None, None, status),
        [f"{BASE}/api/render"],
        [],
    )


LOST = "POST /api/render was sent but no answer came back ({failure})"
NOT_SENT = f"could not connect to {BASE}/api/render"


@pytest.mark.parametrize(
    ("failure", "kind", "message"),
    [
        pytest.param(
            requests.ReadTimeout("read timed out"),
            errors.OutcomeUnknownError,
            LOST,
            id="read-timeout",
        ),
        pytest.param(reset_after_send(), errors.OutcomeUnknownError, LOST, id="reset-after-send"),
        pytest.param(connect_refused(), errors.NotSentError, NOT_SENT, id="refused"),
        pytest.param(dns_failure(), errors.NotSentError, NOT_SENT, id="dns"),
        pytest.param(
            requests.ConnectTimeout("connect timed out"),
            errors.NotSentError,
            NOT_SENT,
            id="connect-timeout",
        ),
    ],
)
def test_paid_post_transport_failure_is_sent_once(
    rig: Rig,
    inputs: tuple[Path, Path],
    failure: requests.RequestException,
    kind: type[errors.ApiError],
    message: str,
) -> None:
    """Lost after sending: OutcomeUnknownError; never left the machine: NotSentError. Sent once."""
    rig.queue(failure, respond(200, {"job_id": "twice"}))
    with pytest.raises(kind) as excinfo:
        render(rig, inputs)
    assert (type(excinfo.value), str(excinfo.value), len(rig.transport.sent)) == (
        kind,
        message.format(failure=type(failure).__name__),
        1,
    )


@pytest.mark.parametrize(
    "body", [{"status": "queued"}, {"job_id": ""}, {"job_id": None}, {"data": []}, ["job_1"]]
)
def test_paid_post_2xx_without_a_job_id_is_outcome_unknown(
    rig: Rig, inputs: tuple[Path, Path], body: object
) -> None:
    """Success without a job id cannot be tracked: the charge may have happened."""
    rig.queue(respond(200, body))
    with pytest.raises(errors.OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert str(excinfo.value) == "POST /api/render answered without a job id"


def test_paid_post_2xx_not_json_is_outcome_unknown(rig: Rig, inputs: tuple[Path, Path]) -> None:
    """An unparseable success body is OutcomeUnknownError, not a crash."""
    rig.queue(respond(200, raw=b"<html>OK</html>"))
    with pytest.raises(errors.OutcomeUnknownError) as excinfo:
        render(rig, inputs)
    assert (str(excinfo.value), len(rig.transport.sent)) == (
        "POST /api/render: the answer was not JSON: '<html>OK</html>'",
        1,
    )


def test_cancel_with_a_lost_answer_is_transient_and_sent_once(rig: Rig) -> None:
    """A DELETE whose answer is lost is not paid: TransientError, still not resent."""
    rig.queue(requests.ReadTimeout("slow"), respond(200, {"status": "cancelled"}))
    with pytest.raises(errors.TransientError) as excinfo:
        rig.client.cancel_render("job_1")
    assert (str(excinfo.value), rig.urls) == (
        "DELETE /api/render/job_1 was sent but no answer came back (ReadTimeout)",
        [f"{BASE}/api/render/job_1"],
    )
