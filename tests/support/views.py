"""What `jobs show --json` gives, as a document the text views take (``cli.status``): a done
job of the demo's rule, with what a test wants in it replaced."""

from __future__ import annotations

from typing import Any


def job_detail_doc(**overrides: Any) -> dict[str, Any]:
    """A done job's detail, as ``app.report.job_detail`` shapes it; ``overrides`` replace keys."""
    return {
        "id": 3,
        "rule": "dance",
        "state": "done",
        "spec": {
            "character": {"path": "/in/alice.png", "sha256": "0" * 64},
            "scene": None,
            "model": "V4_Preview",
            "mode": "direct",
            "options": {},
        },
        "scene": "template:hiphop",
        "estimate_credits": 5.0,
        "attempts": 1,
        "charged_how": None,
        "charged_credits": None,
        "viggle_job_id": None,
        "output": "/out/alice__dance.mp4",
        "delivered": [],
        "error": None,
        "error_code": None,
        "history": [],
        **overrides,
    }
