"""The API's JSON, tolerant of every variant in viggle-api.md: envelopes, aliases, extra fields."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict

TERMINAL_STATUSES: Final = frozenset({"complete", "failed", "cancelled"})


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RenderCreated(_Lenient):
    job_id: str
    status: str | None = None
    mode: str | None = None


class RenderStatus(_Lenient):
    job_id: str | None = None
    status: str
    mode: str | None = None
    checkpoint: str | None = None
    progress_pct: float | None = None
    cdn_url: str | None = None
    mask_cdn_url: str | None = None
    download_url: str | None = None
    error: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def terminal(self) -> bool:
        """Complete, failed or cancelled; anything else (legacy names too) is in progress."""
        return self.status in TERMINAL_STATUSES

    @property
    def result_url(self) -> str | None:
        return self.cdn_url or self.download_url


def unwrap(body: Any) -> Any:
    """Strip the legacy ``{"data": {...}}`` envelope when present."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return body


def error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(code, message, action) from any documented error shape; Nones where absent."""
    if not isinstance(body, dict):
        return None, None, None
    detail = body.get("detail")
    if isinstance(detail, dict):
        return _s(detail.get("error_code")), _s(detail.get("message")), _s(detail.get("action"))
    if isinstance(detail, str):
        return None, detail, None
    if isinstance(detail, list) and detail:
        msgs = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail[:5]]
        return None, "; ".join(msgs), None
    return (
        _s(body.get("error_code")),
        _s(body.get("message")) or _s(body.get("error")),
        _s(body.get("action")),
    )


def _s(value: object) -> str | None:
    return None if value is None else str(value)
