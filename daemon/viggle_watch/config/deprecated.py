"""Pure: settings that still work but have a better place now, in words `run` logs at start and
`check-config` prints — and the one way such an old setting can break a new one.

``metrics.listen`` (issue 18): ``/metrics`` and ``/healthz`` are served on ``web.listen`` too.
The metrics listener keeps working beside it; the two on one address is a config error (the
second could not bind).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from viggle_watch.serving import is_loopback_host, is_wildcard_host, parse_listen

if TYPE_CHECKING:
    from viggle_watch.config.models import Config


def same_address(a: str, b: str) -> bool:
    """Whether two ``host:port`` listeners would take the same socket (port 0: a free one)."""
    (host_a, port_a), (host_b, port_b) = (
        parse_listen(x, what="listen", allow_remote=True) for x in (a, b)
    )
    if port_a != port_b or port_a == 0:
        return False
    if host_a == host_b or is_wildcard_host(host_a) or is_wildcard_host(host_b):
        return True
    # "localhost" is whichever loopback address it resolves to
    return "localhost" in (host_a, host_b) and is_loopback_host(host_a) and is_loopback_host(host_b)


def listeners_clash(web_listen: str, metrics_listen: str) -> str | None:
    """Why ``web.listen`` and ``metrics.listen`` cannot both be set as they are (None: they can)."""
    if not same_address(web_listen, metrics_listen):
        return None
    return (
        f"web.listen {web_listen!r} and metrics.listen {metrics_listen!r} are the same address:"
        " /metrics and /healthz are served on web.listen, so remove the metrics section"
        " (metrics.listen is deprecated)"
    )


def metrics_words(metrics_listen: str, web_listen: str | None) -> str:
    """What to say about ``metrics.listen``, with ``web.listen`` set or not."""
    said = "metrics.listen is deprecated: /metrics and /healthz are served on web.listen; "
    if web_listen is not None:
        return said + f"they are on {web_listen} already, so remove the metrics section"
    return said + (
        f'move the address there (web: {{listen: "{metrics_listen}"}}, the web extra);'
        " metrics.listen keeps working until then"
    )


def deprecated(config: Config) -> dict[str, str]:
    """Each deprecated setting ``config`` uses, and what to say about it."""
    found: dict[str, str] = {}
    if config.metrics.listen is not None:
        web = config.web.listen if config.web is not None else None
        found["metrics.listen"] = metrics_words(config.metrics.listen, web)
    return found
