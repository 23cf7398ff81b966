"""`viggle-watch doctor`: the first contact with an API, with free calls only (issue 15).

DNS, the connection (and TLS) to ``api.base_url`` and how long each took; the key accepted or
refused; the balance; the free list endpoints — and for each answer its shape against what the
client reads (missing, extra and differently typed fields). Exit 0 when everything the client
needs is there. A report file, redacted (no key, no signed URL tokens), to attach to a bug report.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from pydantic import BaseModel

from viggle_watch import __version__
from viggle_watch.app.clients import make_client
from viggle_watch.clock import iso
from viggle_watch.config import Config, resolve_api_key
from viggle_watch.errors import ApiError, AuthError, ConfigError
from viggle_watch.redaction import redact_text, redact_url
from viggle_watch.viggle.client import ViggleClient
from viggle_watch.viggle.schemas import CharacterPage, Credits, ScenePage, unwrap
from viggle_watch.viggle.shapes import Shape, shape_of
from viggle_watch.viggle.transport import first_bytes

CONNECT_S: Final = 10.0
FREE_CALLS: Final[tuple[tuple[str, str, type[BaseModel], dict[str, Any]], ...]] = (
    ("balance", "/api/credits", Credits, {}),
    ("characters", "/api/characters", CharacterPage, {"limit": 1, "offset": 0}),
    ("scenes", "/api/scenes", ScenePage, {"limit": 1, "offset": 0}),
)


@dataclass
class Check:
    name: str
    ok: bool
    said: str
    seconds: float | None = None
    shape: dict[str, Any] | None = None
    answer: str | None = None  # the answer's first bytes, redacted


@dataclass
class Report:
    base_url: str
    at: str
    generator: str = f"viggle-watch {__version__}"
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def run_doctor(config: Config, *, as_json: bool, report_file: Path | None) -> int:
    base = config.api.base_url
    report = Report(redact_url(base), iso(time.time()))
    report.checks.extend(_network(base))
    if all(c.ok for c in report.checks):
        try:
            client = make_client(config, resolve_api_key(config))
        except ConfigError as exc:
            report.checks.append(Check("key", False, str(exc)))
        else:
            report.checks.extend(_free_calls(client))
    document = _redacted(asdict(report) | {"ok": report.ok})
    if report_file is not None:
        report_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if as_json:
        print(json.dumps(document, indent=2))
    else:
        print(f"viggle-watch doctor: {report.base_url}")
        for check in report.checks:
            took = f" ({check.seconds * 1000:.0f} ms)" if check.seconds is not None else ""
            print(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}{took}: {check.said}")
        if report_file is not None:
            print(f"report: {report_file} (redacted: no key, no signed URL tokens)")
        print("everything the client needs is there" if report.ok else "see FAIL above")
    return 0 if report.ok else 1


def _network(base: str) -> list[Check]:
    """DNS, then a TCP connection, then (https) a TLS handshake: each timed."""
    url = urlsplit(base)
    host, https = url.hostname or "", url.scheme == "https"
    port = url.port or (443 if https else 80)
    t0 = time.perf_counter()
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return [Check("dns", False, f"{host} does not resolve: {exc.strerror or exc}")]
    checks = [Check("dns", True, f"{host} → {found[0][4][0]}", time.perf_counter() - t0)]
    t1 = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=CONNECT_S) as sock:
            checks.append(Check("connect", True, f"port {port} answers", time.perf_counter() - t1))
            if https:
                t2 = time.perf_counter()
                with ssl.create_default_context().wrap_socket(sock, server_hostname=host) as tls:
                    said = f"{tls.version()}, certificate valid for {host}"
                checks.append(Check("tls", True, said, time.perf_counter() - t2))
    except (OSError, ssl.SSLError) as exc:
        checks.append(Check("connect", False, f"{host}:{port}: {exc}"))
    return checks


def _free_calls(client: ViggleClient) -> list[Check]:
    checks = []
    for name, path, model, params in FREE_CALLS:
        t0 = time.perf_counter()
        try:
            body = unwrap(client.answer_of(path, params))
        except AuthError as exc:
            checks.append(Check("key", False, f"refused by Viggle: {exc}"))
            return checks
        except ApiError as exc:
            checks.append(Check(name, False, f"GET {path}: {exc}", time.perf_counter() - t0))
            continue
        took = time.perf_counter() - t0
        if name == "balance":
            checks.append(Check("key", True, "accepted by Viggle"))
        shape = shape_of(model, body)
        said = f"GET {path}: {shape.said()}" + _balance(model, body, shape)
        checks.append(Check(name, shape.readable, said, took, asdict(shape), first_bytes(body)))
    return checks


def _balance(model: type[BaseModel], body: Any, shape: Shape) -> str:
    if model is not Credits or not shape.readable:
        return ""
    return f"; balance {Credits.model_validate(body).balance:g} credits"


def _redacted(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: _redacted(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_redacted(v) for v in document]
    return redact_text(document) if isinstance(document, str) else document
