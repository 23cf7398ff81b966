"""The ``viggle-watch sim`` flags: every emulator knob and fault, and the config they make.

``cli.py`` adds ``--host``, ``--port``, ``--latency`` and ``--key`` itself, then calls
:func:`add_sim_arguments` for the rest and :func:`config_from_args` to build the config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from viggle_watch.emulator.config import DEFAULT_BALANCE, EmulatorConfig
from viggle_watch.emulator.drift import VARIANTS
from viggle_watch.emulator.faults import BROKEN_OUTPUTS, Faults
from viggle_watch.errors import ConfigError

_DEFAULTS = Faults()


def _share(text: str) -> float:
    """argparse type: a share between 0 and 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _seconds(text: str) -> float:
    """argparse type: a non-negative number of seconds."""
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _share_flag(group: argparse._ArgumentGroup, flag: str, help_text: str) -> None:
    """A flag that takes a share P between 0 and 1 of the requests a fault hits (default 0)."""
    group.add_argument(flag, type=_share, default=0.0, metavar="P", help=help_text)


def _seconds_flag(
    group: argparse._ArgumentGroup, flag: str, default: float | None, help_text: str
) -> None:
    """A flag that takes a non-negative number of seconds S."""
    group.add_argument(flag, type=_seconds, default=default, metavar="S", help=help_text)


def _add_timing(group: argparse._ArgumentGroup) -> None:
    _seconds_flag(
        group,
        "--latency-jitter",
        _DEFAULTS.latency_jitter_s,
        "each render takes --latency ± up to S seconds, uniformly drawn (default 0)",
    )
    _seconds_flag(
        group,
        "--request-delay",
        _DEFAULTS.request_delay_s,
        "sleep S seconds before answering every /api and /cdn request (default 0)",
    )
    _seconds_flag(
        group,
        "--asset-delay",
        1.0,
        "seconds a character, scene or template import takes to become ready (default 1)",
    )


def _add_api_faults(group: argparse._ArgumentGroup) -> None:
    _share_flag(
        group, "--rate-429", "share of /api calls answered 429 Too Many Requests (not acted on)"
    )
    _seconds_flag(
        group,
        "--retry-after",
        _DEFAULTS.retry_after_s,
        "Retry-After seconds sent with each 429 (default 1)",
    )
    _share_flag(group, "--rate-5xx", "share of /api calls answered 500, 502 or 503 (not acted on)")
    _share_flag(
        group,
        "--rate-drop",
        "share of successful POSTs that are acted on (created, charged) but whose "
        "connection is closed without an answer: the 'outcome unknown' case",
    )
    _share_flag(
        group,
        "--rate-fail",
        "share of renders that end 'failed' with CS-UORC01-009 (credits refunded)",
    )
    group.add_argument(
        "--fast-unavailable",
        action="store_true",
        help="refuse fast=true renders with 400 CS-UORC01-001",
    )
    group.add_argument(
        "--refuse-keys",
        action="store_true",
        help="answer every API call 401, as for a revoked key",
    )
    group.add_argument(
        "--drift",
        default="none",
        metavar="NAME",
        help="answer as the real API might where the docs leave room: "
        + "; ".join(f"{name} ({v.says})" for name, v in VARIANTS.items()),
    )
    group.add_argument(
        "--report-cost",
        action="store_true",
        help="a complete render's status carries its cost as credits_used (the docs show none)",
    )
    group.add_argument(
        "--legacy",
        action="store_true",
        help="answer like the old API: {'data': ...} envelopes, statuses pending/rendering/"
        "merging, errors with top-level error_code/message",
    )


def _add_cdn_faults(group: argparse._ArgumentGroup) -> None:
    _share_flag(
        group,
        "--rate-truncate",
        "share of CDN downloads cut off half-way (Content-Length stays the full size)",
    )
    group.add_argument(
        "--ignore-range",
        action="store_true",
        help="the CDN answers 200 with the whole file even when a Range was asked for",
    )
    _seconds_flag(
        group,
        "--cdn-expiry",
        None,
        "signed CDN URLs answer 403 S seconds after issue (default: never expire)",
    )
    group.add_argument(
        "--broken-output",
        choices=BROKEN_OUTPUTS,
        default=_DEFAULTS.broken_output,
        help="serve every result spoiled, as if Viggle stored a broken render: truncated (cut "
        "at half its bytes, served whole), black (every frame; the mask spared), frozen (the "
        "first frame throughout), short (half the asked length), empty_mask / full_mask (a "
        "transparent render's mask all black / all white); default none",
    )


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every emulator flag except --host, --port, --latency and --key to ``parser``."""
    account = parser.add_argument_group("account and templates")
    account.add_argument(
        "--balance",
        type=float,
        default=DEFAULT_BALANCE,
        metavar="CREDITS",
        help=f"starting credits of every API key (default {DEFAULT_BALANCE:g})",
    )
    account.add_argument(
        "--templates",
        type=Path,
        default=None,
        metavar="PATH",
        help="YAML template table for /api/scenes/import (default: the packaged one)",
    )
    account.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the random draws behind every fault and the latency jitter (default 0)",
    )
    _add_timing(parser.add_argument_group("timing"))
    _add_api_faults(parser.add_argument_group("API faults"))
    _add_cdn_faults(parser.add_argument_group("CDN faults"))


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Build the emulator config from parsed ``sim`` arguments; ConfigError if inconsistent."""
    if args.rate_429 + args.rate_5xx > 1:
        raise ConfigError("--rate-429 plus --rate-5xx must not exceed 1")
    faults = Faults(
        latency_jitter_s=args.latency_jitter,
        request_delay_s=args.request_delay,
        rate_429=args.rate_429,
        retry_after_s=args.retry_after,
        rate_5xx=args.rate_5xx,
        rate_drop_after_read=args.rate_drop,
        rate_truncate_download=args.rate_truncate,
        ignore_range=args.ignore_range,
        cdn_expiry_s=args.cdn_expiry,
        broken_output=args.broken_output,
        rate_render_failure=args.rate_fail,
        fast_unavailable=args.fast_unavailable,
        legacy=args.legacy,
        refuse_keys=args.refuse_keys,
        report_cost=args.report_cost,
        drift=args.drift,
    )
    return EmulatorConfig(
        latency_s=args.latency,
        keys=frozenset(args.key) if args.key else None,
        balance=args.balance,
        asset_delay_s=args.asset_delay,
        templates_path=args.templates,
        seed=args.seed,
        faults=faults,
    )
