"""The container's start-up decisions (issue 20), pure: who the service runs as, the umask,
which arguments are a viggle-watch command, which mount points are handed over, which folders
are made, and where the health probe knocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from viggle_watch.cli.parser import command_names
from viggle_watch.container.plan import (
    ContainerError,
    config_path,
    folders_to_make,
    in_user_namespace,
    needs_owner,
    parse_umask,
    plan_start,
    probe_address,
)

COMMANDS = command_names()


def test_started_as_root_it_becomes_puid_pgid() -> None:
    start = plan_start([], {"PUID": "1026", "PGID": "100"}, euid=0, commands=COMMANDS)
    assert (start.run_as, start.argv, start.program, start.service) == (
        (1026, 100),
        ["run"],
        "viggle-watch",
        True,
    )
    assert start.notes == []


def test_without_puid_it_is_1000_never_root() -> None:
    assert plan_start(["run"], {}, euid=0, commands=COMMANDS).run_as == (1000, 1000)
    as_root = plan_start(["run"], {"PUID": "0", "PGID": "0"}, euid=0, commands=COMMANDS)
    assert as_root.run_as == (0, 0) and "running as root" in as_root.notes[0]


def test_started_as_a_user_it_runs_as_given_and_says_puid_is_not_used() -> None:
    start = plan_start(["run"], {"PUID": "1026"}, euid=1001, commands=COMMANDS)
    assert start.run_as is None
    assert start.notes == [
        "PUID=1026 is not used: the container was started as uid 1001 (--user), and runs as that"
    ]
    assert plan_start(["run"], {"PUID": "1001"}, euid=1001, commands=COMMANDS).notes == []


@pytest.mark.parametrize(
    ("argv", "program", "service"),
    [
        (["status", "--json"], "viggle-watch", False),
        (["sim", "--port", "8377"], "viggle-watch", False),
        (["--version"], "viggle-watch", False),
        (["--log-format", "console", "run"], "viggle-watch", True),
        (["--log-format=console", "run", "--config", "/c.yaml"], "viggle-watch", True),
        (["sh", "-c", "id"], "exec", False),
        (["python", "-c", "1"], "exec", False),
    ],
)
def test_commands_and_other_programs(argv: list[str], program: str, service: bool) -> None:
    start = plan_start(argv, {}, euid=0, commands=COMMANDS)
    assert (start.program, start.service, start.argv) == (program, service, argv)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"PUID": "abc"}, "PUID='abc': a user or group id is a number"),
        ({"PGID": "-5"}, "PGID='-5': a user or group id is a number"),
        ({"PUID": "4294967295"}, "PUID='4294967295'"),
        ({"UMASK": "0999"}, "UMASK='0999': a umask is three octal digits"),
        ({"UMASK": "22"}, "UMASK='22'"),
    ],
)
def test_bad_settings_are_said_in_words(env: dict[str, str], said: str) -> None:
    with pytest.raises(ContainerError, match=said.replace("(", r"\(")):
        plan_start(["run"], env, euid=0, commands=COMMANDS)


def test_umasks() -> None:
    assert [parse_umask(t) for t in ("022", "0027", " 002 ", "000")] == [0o22, 0o27, 0o2, 0]
    assert plan_start([], {"UMASK": "027"}, euid=0, commands=COMMANDS).umask == 0o27
    assert plan_start([], {}, euid=0, commands=COMMANDS).umask == 0o22


def test_only_an_empty_root_owned_mount_point_is_handed_over() -> None:
    assert needs_owner(0, (1000, 1000), empty=True, userns=False)  # what Docker made
    assert not needs_owner(1026, (1000, 1000), empty=True, userns=False)  # someone's
    assert not needs_owner(0, (0, 0), empty=True, userns=False)
    assert not needs_owner(0, (1000, 1000), empty=False, userns=False)  # a NAS share of root's
    # rootless: the person's own folder looks root-owned inside; it is never given away
    assert not needs_owner(0, (1000, 1000), empty=True, userns=True)


def test_rootless_it_stays_the_containers_root_unless_told() -> None:
    assert in_user_namespace("         0       1000          1\n         1     100000      65536\n")
    assert not in_user_namespace("         0          0 4294967295\n")
    start = plan_start(["run"], {}, euid=0, commands=COMMANDS, userns=True)
    assert start.run_as is None and "(your own, under rootless Podman or Docker)" in start.notes[0]
    told = plan_start(["run"], {"PUID": "1000"}, euid=0, commands=COMMANDS, userns=True)
    assert told.run_as == (1000, 1000)


def test_only_folders_under_the_data_volume_are_made() -> None:
    named = [Path("/data/in"), Path("/data/out/x"), Path("/srv/share/in"), Path("/data")]
    assert folders_to_make(named) == [Path("/data/in"), Path("/data/out/x")]
    assert folders_to_make([Path("/database/in")]) == []


def test_the_probe_knocks_on_loopback_for_a_wildcard_listener() -> None:
    assert probe_address(("0.0.0.0", 8080)) == ("127.0.0.1", "0.0.0.0:8080")  # noqa: S104
    assert probe_address(("::", 8080)) == ("::1", "[::]:8080")
    assert probe_address(("127.0.0.1", 8378)) == ("127.0.0.1", "127.0.0.1:8378")


def test_the_unraid_template_names_every_setting_of_the_image() -> None:
    """container/unraid/viggle-watch.xml offers what docs/container.md documents."""
    import xml.etree.ElementTree as ET

    template = Path(__file__).parents[2] / "container/unraid/viggle-watch.xml"
    root = ET.parse(template).getroot()  # noqa: S314 - our own file, in the repository
    targets = {c.get("Target") for c in root.iter("Config")}
    assert {"PUID", "PGID", "UMASK", "TZ", "VIGGLE_API_KEY_FILE", "/config", "/data"} <= targets
    assert "8080" in targets and root.findtext("Repository") == "viggle-watch"


def test_the_config_a_run_reads() -> None:
    env = {"VIGGLE_WATCH_CONFIG": "/config/other.yaml"}
    assert config_path(["run", "--config", "/x/c.yaml"], env) == Path("/x/c.yaml")
    assert config_path(["run", "--config=/y/c.yaml"], env) == Path("/y/c.yaml")
    assert config_path(["run"], env) == Path("/config/other.yaml")
    assert config_path(["run"], {}) == Path("/config/config.yaml")
