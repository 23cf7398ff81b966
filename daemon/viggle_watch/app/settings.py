"""Settings each part of the service takes, derived from the config (and the checks `run`
and `check-config` make before starting)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from viggle_watch.config import Config, Rule
from viggle_watch.config.kinds import fixed_inputs
from viggle_watch.errors import ConfigError, NotReadyError
from viggle_watch.intake.facts import Facts
from viggle_watch.render.budget import Budget
from viggle_watch.render.publishing import OutputRule
from viggle_watch.render.sending import looks_unmounted
from viggle_watch.render.submitter import SubmitSettings


def check_paths(config: Config) -> None:
    """Refuse to start on missing watch folders or scene videos — for now (exit 75) when a
    share may not be mounted yet, for good (exit 2) when it is a typo — or on a hook's secret
    file that cannot be read."""
    for rule in config.rules:
        if not rule.watch.is_dir():
            raise NotReadyError(
                f"rule {rule.name}: watch folder {rule.watch} does not exist "
                "(create it, or mount the share)"
            )
        for path in fixed_inputs(rule):
            if not path.is_file() and looks_unmounted(path.parent):
                raise NotReadyError(
                    f"rule {rule.name}: {path} does not exist, nor anything in its folder "
                    "(a share not mounted yet?)"
                )
            if not path.is_file():  # its folder is there: a typo, not a share to wait for
                raise ConfigError(
                    f"rule {rule.name}: {path} does not exist (a typo? {path.parent} is there)"
                )
            problem = Facts().problem(rule, path)  # as the intake checks it, in its role
            if problem is not None:
                raise ConfigError(f"rule {rule.name}: {path}: {problem.reason}")
        for hook in (rule.on_done, rule.on_failed):
            secret = hook.webhook.secret_file if hook and hook.webhook else None
            if secret is not None and not os.access(secret, os.R_OK):
                raise ConfigError(
                    f"rule {rule.name}: the webhook secret_file {secret} is unreadable"
                )


def budget_of(config: Config) -> Budget:
    return Budget(config.budget.daily_credits, config.budget.max_credits_per_job)


def submit_settings(config: Config) -> SubmitSettings:
    return SubmitSettings(config.max_concurrent_renders, config.poll_interval, budget_of(config))


class RuleSnapshot:
    """The rules by name as one read-only mapping that a reload replaces whole: a reader takes
    it once per tick and sees the old rules or the new ones, never a half-updated mix."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._current: Mapping[str, Rule] = MappingProxyType({})
        self.replace(rules)

    def replace(self, rules: Iterable[Rule]) -> None:
        self._current = MappingProxyType({r.name: r for r in rules})

    def get(self) -> Mapping[str, Rule]:
        return self._current


def output_rules(config: Config) -> Mapping[str, OutputRule]:
    return MappingProxyType(
        {
            r.name: OutputRule(
                r.output, r.collision, r.output_mode, r.output_group, frozenset(r.deliver)
            )
            for r in config.rules
        }
    )


def admit_window(config: Config) -> int | None:
    """On a shared store, how many jobs may be preparing at once across the hosts (None: no
    limit on one host): enough to keep every render slot busy, not the whole queue."""
    return max(4, 2 * config.max_concurrent_renders) if config.store.url else None
