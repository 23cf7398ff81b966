"""One tree of errors for the whole service.

::

    ViggleWatchError
    ├── ConfigError            bad config or rule file (names file, line, field)
    ├── NotReadyError          not there yet or busy (a share, another service): try later
    ├── StoreError             the job store refused something (bad transition, schema)
    │   ├── StoreUnavailableError  locked, full or unreachable: try again later
    │   └── TransitionError    a compare-and-set state change found another state
    │       └── JobLostError   the job is no longer this host's (taken over, moved on)
    └── ApiError               anything the Viggle API (or the way to it) did
        ├── NotSentError       the request never reached Viggle: safe to retry
        ├── ThrottledError     429: not acted on; retry after ``retry_after_s``
        ├── TransientError     an idempotent GET failed (5xx, timeout): retry with backoff
        ├── RejectedError      400: the input is wrong; do not retry (``code``, ``message``)
        │   └── FastUnavailableError  400 CS-UORC01-001: no fast capacity; retry with fast=false
        ├── AuthError          401/403: the key is missing, bad or expired
        ├── CreditsError       402: not enough credits
        ├── NotFoundError      404: the job, character or scene is unknown
        ├── OutcomeUnknownError  a paid POST may or may not have been acted on
        └── DownloadError      the CDN download failed (``expired``: ask for a fresh URL;
                               ``restart``: the partial file cannot be resumed)

The client classifies every HTTP outcome exactly once; the pipeline branches on these types
and never looks at status codes. See docs/reliability.md §2 for why ``OutcomeUnknownError`` exists.
"""

from __future__ import annotations


class ViggleWatchError(Exception):
    """Base of every error this service raises on purpose."""

    transient = False
    """True when trying again later may work (the CLI then exits 75, EX_TEMPFAIL, not 2)."""


class NotReadyError(ViggleWatchError):
    """Something the command needs is not there yet or is busy: a share not mounted, the store
    busy or unreachable, another service holding the state directory. Try again later."""

    transient = True


class ConfigError(ViggleWatchError):
    """A config or rule file is wrong; the message names the file, line and field."""


class StoreError(ViggleWatchError):
    """The job store refused an operation."""


class StoreUnavailableError(StoreError):
    """The store is there but cannot be used now: locked past the busy timeout, full, or a
    PostgreSQL server that does not answer. The work waits and is tried again."""

    transient = True


class NoSchemaError(StoreError):
    """The store is reachable but has no viggle-watch tables yet (made by the first `run`)."""


class TransitionError(StoreError):
    """A job was not in the state a transition expected (someone else moved it)."""


class JobLostError(TransitionError):
    """The job is no longer this host's to write for: another host holds it now (it took
    the job over while this one was paused or cut off), or it moved on from the state this
    host was working in. The host stops the job at once (docs/scaling-out.md)."""

    def __init__(self, job_id: int, reason: str, *, holder: str | None = None) -> None:
        super().__init__(f"job {job_id} is not this host's any more: {reason}")
        self.job_id, self.reason, self.holder = job_id, reason, holder


class InFlightLimitError(StoreError):
    """Every render slot (max_concurrent_renders, counted across hosts) is taken."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} renders are in flight already (max_concurrent_renders)")
        self.limit = limit


class BudgetExceededError(StoreError):
    """A paid step would take the day's credits (counted across every host) over the cap."""

    def __init__(self, spent: float, cap: float, credits: float) -> None:
        super().__init__(
            f"daily cap: {spent:g} of {cap:g} credits used today, this job needs {credits:g}"
        )
        self.spent, self.cap, self.credits = spent, cap, credits


class ApiError(ViggleWatchError):
    """An outcome of a Viggle API call. Never carries the API key."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        action: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.action = action

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"[{self.code}]")
        if self.http_status is not None:
            parts.append(f"(HTTP {self.http_status})")
        if self.action:
            parts.append(f"- {self.action}")
        return " ".join(parts)


class NotSentError(ApiError):
    """The request never reached the API (refused, DNS, connect timeout): safe to retry."""


class InputChangedError(ViggleWatchError):
    """An input is not the file that was checked any more (gone, replaced by a link, other
    bytes): nothing was sent, and nothing will be; ``code`` is ``input_missing`` or
    ``input_changed``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ThrottledError(ApiError):
    """HTTP 429: the API did not act; retry after ``retry_after_s`` seconds (None if unsaid)."""

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, http_status: int | None = 429
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.retry_after_s = retry_after_s


class TransientError(ApiError):
    """An idempotent call failed in a way that may pass (5xx, timeout, reset)."""


class UnreadableAnswerError(TransientError):
    """A 2xx answer to a free call that the client cannot read (not JSON, a proxy's HTML page,
    a field the step needs missing): that call failed, for that job only, and may be tried again.
    (To a paid POST the same is ``OutcomeUnknownError``: it may have been charged.)"""


class RejectedError(ApiError):
    """HTTP 400/422: the request or its input is wrong; retrying the same thing will not help."""


class FastUnavailableError(RejectedError):
    """HTTP 400 ``CS-UORC01-001``: fast mode has no capacity now; the same job without it may go."""


class AuthError(ApiError):
    """HTTP 401/403: the key is missing, wrong or expired."""


class CreditsError(ApiError):
    """HTTP 402: the account has too few credits for this job."""


class NotFoundError(ApiError):
    """HTTP 404: the job, character or scene id is unknown to the API."""


class OutcomeUnknownError(ApiError):
    """A paid POST was sent but its outcome was lost: Viggle may have accepted and charged it."""


class DownloadError(ApiError):
    """Downloading a result failed; ``expired`` says the URL should be fetched afresh."""

    def __init__(
        self,
        message: str,
        *,
        expired: bool = False,
        http_status: int | None = None,
        restart: bool = False,
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.expired = expired
        self.restart = restart  # the partial file is useless: start from byte 0
