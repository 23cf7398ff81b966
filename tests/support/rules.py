"""Rules for the unit tests: a minimal valid rule mapping of each kind (``rule_data``), its
folders and assets at fixed paths under ``/w``; a jobs rule watching ``/w/jobs`` and the render
request a manifest's text makes under it (``request``). Nothing is read from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from viggle_watch.config import JobsRule
from viggle_watch.config.kinds import parse_rule
from viggle_watch.rules.manifest import ManifestError, manifest_request
from viggle_watch.rules.pairing import RenderRequest

WATCH = Path("/w/in")
OUTPUT = Path("/w/out")
WAVE = Path("/w/assets/wave.mp4")
HERO = Path("/w/assets/hero.png")
BOB = Path("/w/assets/bob.png")


KIND_EXTRAS: dict[str, dict[str, Any]] = {
    "characters": {"scenes": [{"video": WAVE}]},
    "scenes": {"characters": [HERO]},
    "pairs": {},
    "jobs": {},
}


def rule_data(kind: str = "pairs", **overrides: Any) -> dict[str, Any]:
    """A minimal valid rule mapping of ``kind``; fields overridable."""
    data = {"name": "wave", "kind": kind, "watch": WATCH, "output": OUTPUT}
    return {**data, **KIND_EXTRAS[kind], **overrides}


# -- manifests --------------------------------------------------------------------------

ROOT = Path("/w/jobs")
MANIFEST = ROOT / "duo.job.yaml"


def jobs_rule(watch: Path = ROOT, **overrides: Any) -> JobsRule:
    """A jobs rule watching ``watch`` (preprocessed: templates and mappings allowed)."""
    data = {"name": "studio", "kind": "jobs", "watch": watch, "output": watch.parent / "out"}
    rule = parse_rule({**data, "mode": "preprocessed", **overrides})
    assert isinstance(rule, JobsRule)
    return rule


def request(text: str, manifest: Path = MANIFEST, **rule: Any) -> RenderRequest | ManifestError:
    """The manifest ``text`` found at ``manifest`` under the default jobs rule."""
    return manifest_request(jobs_rule(**rule), manifest, text)
