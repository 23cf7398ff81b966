"""What an operator reads from the CLI: exit codes (and systemd's RestartPreventExitStatus=2)
to act on, 2 for what must be fixed first and 75 (EX_TEMPFAIL) for what may pass by itself; help
that says what a command needs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import key_env, run_cli
from tests.support.stepping import Stepper
from tests.support.workspace import KEY, MakeConfig, Workspace


def run(config: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("run", "--config", str(config), env=key_env(KEY))


def test_a_share_not_mounted_yet_is_a_passing_error(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """The watch folder is missing (an unmounted share): 75, and it says which folder."""
    config = make_config("http://127.0.0.1:9")
    workspace.watch.rmdir()
    done = run(config.source)
    assert (done.returncode, f"watch folder {workspace.watch} does not exist" in done.stderr) == (
        75,
        True,
    )


@pytest.mark.parametrize(("unmounted", "code"), [(True, 75), (False, 2)])
def test_a_rules_scene_video_missing_waits_for_a_share_and_refuses_a_typo(
    make_config: MakeConfig, workspace: Workspace, unmounted: bool, code: int
) -> None:
    """Its folder missing or empty (a share not mounted yet): 75, systemd tries again. Its
    folder there with other files (a typo): 2, so systemd does not restart it in a loop."""
    config = make_config("http://127.0.0.1:9")
    assets = workspace.scene.parent
    workspace.scene.unlink()
    if not unmounted:
        (assets / "dance-final.mp4").write_bytes(b"x")
    done = run(config.source)
    said = "does not exist, nor anything in its folder" if unmounted else "a typo?"
    assert (done.returncode, said in done.stderr, "Traceback" in done.stderr) == (
        code,
        True,
        False,
    )


def test_a_broken_config_is_a_permanent_error(make_config: MakeConfig) -> None:
    """A typo'd key: 2, naming the key (systemd will not restart it in a loop)."""
    config = make_config("http://127.0.0.1:9")
    doc = yaml.safe_load(config.source.read_text(encoding="utf-8"))
    config.source.write_text(yaml.safe_dump({**doc, "setle": "1s"}), encoding="utf-8")
    done = run(config.source)
    assert (done.returncode, "setle: unknown key" in done.stderr) == (2, True)


def test_help_says_what_each_exit_code_means() -> None:
    """`viggle-watch --help` documents 0, 1, 2 and 75."""
    done = run_cli("--help")
    text = " ".join(done.stdout.split())
    assert ("2 a permanent error" in text, "75 a passing one" in text) == (True, True)


def test_jobs_resolve_says_it_needs_the_api_key() -> None:
    """`jobs resolve` asks Viggle about the job, so its help says the key is needed."""
    done = run_cli("jobs", "resolve", "--help")
    assert "needs the API key" in " ".join(done.stdout.split())


def test_check_config_without_a_key_exits_2(make_config: MakeConfig) -> None:
    """A pre-flight script can tell: no key found is what `run` would refuse (2)."""
    config = make_config("http://127.0.0.1:9")
    env = {k: v for k, v in key_env(KEY).items() if k != "VIGGLE_API_KEY"}
    done = run_cli("check-config", str(config.source), env=env)
    assert (done.returncode, "API key" in done.stdout) == (2, True)


def test_reload_without_a_running_service_says_so(make_config: MakeConfig) -> None:
    """No service on the state directory: exit 1 (nothing is broken: there is nothing to
    reload, so not the permanent-error 2) and which directory, not a raw errno."""
    config = make_config("http://127.0.0.1:9")
    done = run_cli("reload", "--config", str(config.source), env=key_env(KEY))
    assert (
        done.returncode,
        f"no viggle-watch is running on {config.state_dir}" in done.stderr,
    ) == (
        1,
        True,
    )
    assert "Errno" not in done.stderr


def test_check_config_shows_output_mode_as_written(make_config: MakeConfig) -> None:
    """`output_mode` is shown in octal ("0644"), as a person writes it, not as 420."""
    config = make_config("http://127.0.0.1:9")
    done = run_cli("check-config", str(config.source), env=key_env(KEY))
    assert ("output_mode: '0644'" in done.stdout, "output_mode: 420" in done.stdout) == (
        True,
        False,
    )


def test_plan_says_when_a_watch_folder_is_missing(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """An empty plan must not look like an empty folder: a warning, and 75 like check-config."""
    config = make_config("http://127.0.0.1:9")
    workspace.watch.rmdir()
    done = run_cli("plan", "--config", str(config.source))
    assert done.returncode == 75
    assert f"watch folder {workspace.watch} does not exist" in done.stderr


def test_plan_says_the_inputs_wait_when_the_rules_scene_video_is_missing(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """What the service does (the input waits for the rule's own file), not a refusal with a
    reason about the input: a warning naming the file, each input `wait`, and 75."""
    config = make_config("http://127.0.0.1:9")
    (workspace.watch / "alice.png").write_bytes(workspace.character())
    workspace.scene.unlink()
    done = run_cli("plan", "--json", "--config", str(config.source))
    assert done.returncode == 75, done.stderr
    assert f"rule dance: {workspace.scene} does not exist (its own file" in done.stderr
    lines = yaml.safe_load(done.stdout)
    assert [(line["source"], line["action"]) for line in lines] == [
        (str(workspace.watch / "alice.png"), "wait")
    ]
    assert lines[0]["reason"].startswith(f"{workspace.scene} (the rule's own file) is missing")


def test_plan_names_the_job_a_file_made_already_by_its_state(
    stepper_for: Any, workspace: Workspace
) -> None:
    """A file whose job is still queued (or waits for the budget) is not "already rendered":
    the line names the job and its state."""
    st: Stepper = stepper_for("http://127.0.0.1:9")
    (workspace.watch / "alice.png").write_bytes(workspace.character())
    assert st.ingest() == 1
    done = run_cli("plan", "--json", "--config", str(st.service.config.source))
    lines = yaml.safe_load(done.stdout)
    assert [(line["action"], line["job"], line["reason"]) for line in lines] == [
        ("duplicate", 1, "already a job: 1, queued, not rendered yet")
    ]


def test_reload_checks_the_config_as_the_service_would_before_asking(
    make_config: MakeConfig, workspace: Workspace
) -> None:
    """A watch folder that is not there: the service would refuse the reload and only its log
    would say so, so `reload` says it (75, a share may come back) and sends nothing."""
    config = make_config("http://127.0.0.1:9")
    workspace.watch.rmdir()
    done = run_cli("reload", "--config", str(config.source), env=key_env(KEY))
    assert (done.returncode, f"watch folder {workspace.watch} does not exist" in done.stderr) == (
        75,
        True,
    )
    assert "no viggle-watch is running" not in done.stderr  # checked before looking for one
