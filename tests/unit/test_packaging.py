"""The import name `viggle_watch` lives beside the `python-daemon` distribution's `daemon`."""

from __future__ import annotations

from importlib.metadata import version

import daemon
import daemon.pidfile

import viggle_watch
from tests.support.cli import run_cli
from viggle_watch.cli.main import main


def test_both_packages_import_in_one_process() -> None:
    """python-daemon's `daemon` is a real package of its own, not the source folder."""
    assert (hasattr(daemon, "DaemonContext"), callable(main), daemon.pidfile.__name__) == (
        True,
        True,
        "daemon.pidfile",
    )


def test_the_version_is_written_in_one_place() -> None:
    """The installed distribution's version is the package's `__version__`."""
    assert version("viggle-watch") == viggle_watch.__version__


def test_python_m_viggle_watch_is_the_command() -> None:
    """`python -m viggle_watch --version` prints what `viggle-watch --version` does."""
    done = run_cli("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"viggle-watch {viggle_watch.__version__}")
