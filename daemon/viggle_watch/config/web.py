"""The HTTP listener of the service (issue 18; docs/web.md): the JSON API, ``/healthz`` and
``/metrics``. Every request that changes anything needs the token in ``token_file``; without
one the API is read-only. A listener off loopback refuses to start without a token."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from viggle_watch.config.kinds import ByteCount, ConfigPath, Strict
from viggle_watch.serving import is_loopback_host, parse_listen


class WebSettings(Strict):
    listen: str  # host:port, e.g. 127.0.0.1:8378 (8377 is the emulator's)
    token_file: ConfigPath | None = None  # the bearer token that may change things
    open_reads: bool = True  # reads without the token (on a loopback listener only)
    hosts: Annotated[list[str], Field(default_factory=list)]  # other names; '*': any (off loopback)
    max_upload: ByteCount = 2 * 1024**3  # one submission's request body: 2GiB, 500MiB, bytes

    @model_validator(mode="after")
    def _check(self) -> WebSettings:
        host, _ = parse_listen(self.listen, what="web.listen", allow_remote=True)
        if not is_loopback_host(host) and self.token_file is None:
            raise ValueError(
                f"web.listen {self.listen!r} is not a loopback address: it needs web.token_file"
                " (anyone who can reach it could spend your credits)"
            )
        if "*" in self.hosts and is_loopback_host(host):
            raise ValueError(
                "web.hosts: '*' (any name) is only for a listener off loopback, where every "
                "request needs the token; on loopback it would let a DNS-rebinding page read"
            )
        return self

    @property
    def address(self) -> tuple[str, int]:
        return parse_listen(self.listen, what="web.listen", allow_remote=True)
