"""The image's ``HEALTHCHECK``: ask the service's ``/healthz`` on its ``web.listen`` (with the
token, which reads off loopback need); healthy when it answers 200. Without a web listener in
the config there is nothing to ask: unhealthy, saying so."""

from __future__ import annotations

import http.client
import os
import sys
from pathlib import Path

from viggle_watch.container.plan import DEFAULT_CONFIG, probe_address


def check(config_path: Path, timeout_s: float = 5.0) -> tuple[bool, str]:
    from viggle_watch.config import load_config
    from viggle_watch.errors import ConfigError
    from viggle_watch.web.token import read_token  # no FastAPI: the token's reader only

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return False, str(exc)
    if config.web is None:
        return False, f"{config_path} has no web.listen: no /healthz to ask"
    connect, named = probe_address(config.web.address)
    headers = {"Host": named}
    try:
        token = read_token(config.web)  # as the service reads it
    except ConfigError as exc:
        return False, str(exc)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(connect, config.web.address[1], timeout=timeout_s)
    try:
        conn.request("GET", "/healthz", headers=headers)
        answer = conn.getresponse()
        body = answer.read(1000).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException) as exc:
        return False, f"no answer from {connect}:{config.web.address[1]}: {exc!r}"
    finally:
        conn.close()
    return answer.status == 200, f"{answer.status} {body}"


def main() -> int:
    path = Path(os.environ.get("VIGGLE_WATCH_CONFIG") or DEFAULT_CONFIG)
    ok, said = check(path)
    print(said)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
