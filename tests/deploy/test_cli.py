"""The deploy commands through click's CliRunner: exit codes, refusals, and a real run.

CliRunner gives the command no terminal, which is exactly the CI situation `deploy` must
refuse without --yes. The emulator test at the end drives the same commands a user would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from tests.deploy.sample import broken, sample_environment, with_stack, write_rendered

COMMANDS = ["plan", "deploy", "destroy", "status", "outputs", "unlock"]


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    return write_rendered(sample_environment(), tmp_path / "out")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_an_example(command: str) -> None:
    code, output = run(command, "--help")
    assert code == 0
    assert "Example" in output and f"cfngen {command}" in output
    for option in ("--env", "--var", "--var-file", "--profile", "--region", "--endpoint-url"):
        assert option in output


def test_deploy_without_terminal_or_yes_refuses(rendered: Path, aws_env: None) -> None:
    code, output = run("deploy", str(rendered), "--env", "test")
    assert code == 2
    assert "no terminal to confirm change sets on: pass --yes" in output


def test_destroy_without_terminal_or_yes_refuses(rendered: Path, aws_env: None) -> None:
    code, output = run("destroy", str(rendered), "--env", "test")
    assert code == 2
    assert "pass --yes" in output


def test_unknown_stack_is_bad_input(rendered: Path, aws_env: None) -> None:
    code, output = run(
        "deploy",
        str(rendered),
        "--env",
        "test",
        "--yes",
        "--stack",
        "nope",
        "--endpoint-url",
        "http://127.0.0.1:9",
    )
    assert code == 2
    assert "unknown stack: nope (stacks: network, solo, app-a, app-b, edge)" in output


def test_rendered_directory_of_another_environment_is_bad_input(
    rendered: Path, aws_env: None
) -> None:
    code, output = run("status", str(rendered), "--env", "prod")
    assert code == 2
    assert "holds environment 'test', not 'prod'" in output


def test_template_over_one_megabyte_is_bad_input_before_any_call(
    tmp_path: Path, aws_env: None
) -> None:
    env = sample_environment()
    huge = with_stack(env, "solo", body=env.stack("solo").body + "#" + "x" * 1_000_001 + "\n")
    directory = write_rendered(huge, tmp_path / "out")
    # the endpoint is a closed port: any API call would fail with exit 1 after retries
    code, output = run(
        "deploy", str(directory), "--env", "test", "--yes", "--endpoint-url", "http://127.0.0.1:9"
    )
    assert code == 2
    assert "sample-test-solo" in output and "1,000,000-byte limit" in output


def test_render_never_imports_boto3_or_the_deploy_package() -> None:
    code = (
        "import sys, cfngen.cli; "
        "assert 'boto3' not in sys.modules and 'cfngen.deploy.deployer' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.xdist_group("ministack")
def test_commands_end_to_end_on_the_emulator(emulator: str, tmp_path: Path) -> None:
    env = sample_environment()
    directory = write_rendered(env, tmp_path / "out")
    target = [str(directory), "--env", "test", "--endpoint-url", emulator, "--poll-interval", "0.1"]

    code, output = run("plan", *target, "--detailed-exitcode")
    assert code == 2, output
    assert "sample-test-network: create" in output

    code, output = run("deploy", *target, "--yes")
    assert code == 0, output
    assert "5 stacks: 5 created" in output

    code, output = run("deploy", *target, "--yes")
    assert code == 0 and "5 stacks: 5 unchanged" in output

    code, output = run("plan", *target, "--detailed-exitcode")
    assert code == 0, output

    changed = with_stack(
        env, "app-a", parameters={"EnvironmentName": env.environment_name, "Setting": "three"}
    )
    write_rendered(changed, tmp_path / "out")
    code, output = run("plan", *target, "--detailed-exitcode", "--format", "markdown")
    assert code == 2, output
    assert "#### `sample-test-app-a`: update" in output
    assert "parameter `Setting`: `one` → `three`" in output

    code, output = run("status", *target[:-2], "--format", "json")
    statuses = {row["component"]: row["status"] for row in json.loads(output)}
    assert code == 0 and set(statuses.values()) == {"CREATE_COMPLETE"}

    code, output = run("outputs", *target[:-2])
    assert code == 0 and "sample-test-network-TopicArn" in output

    write_rendered(broken(env, "app-b"), tmp_path / "out")
    code, output = run("deploy", *target, "--yes", "--stack", "edge")
    assert code == 1, output
    assert re.search(r"sample-test-app-b +failed +UPDATE_ROLLBACK_COMPLETE: Broken", output)
    assert re.search(r"sample-test-edge +skipped +needs sample-test-app-b", output)

    code, output = run("destroy", *target, "--yes")
    assert code == 0, output
    assert output.count("deleted") >= 5


def test_unreachable_endpoint_is_a_clean_failure(
    rendered: Path, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # as the AWS CLI: no retries, fail fast
    code, output = run(
        "status", str(rendered), "--env", "test", "--endpoint-url", "http://127.0.0.1:9"
    )
    assert code == 1
    assert "Could not connect to the endpoint URL" in output
    assert "Traceback" not in output


@pytest.mark.xdist_group("ministack")
def test_interactive_deploy_asks_per_stack_and_honours_no(
    emulator: str, rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cfngen.cli.deploy as deploy_cli

    monkeypatch.setattr(deploy_cli, "_interactive", lambda: True)  # CliRunner has no terminal
    args = [
        "deploy",
        str(rendered),
        "--env",
        "test",
        "--endpoint-url",
        emulator,
        "--concurrency",
        "1",
        "--poll-interval",
        "0.1",
    ]
    # deploy order: network, solo, app-a, app-b (declined), edge (skipped: needs app-b)
    result = CliRunner().invoke(cli, args, input="y\ny\ny\nn\n", catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.output.count("Execute the change set for") == 4
    assert re.search(r"sample-test-app-b +declined +change set deleted", result.output)
    assert re.search(r"sample-test-edge +skipped", result.output)


def test_variables_on_a_rendered_directory_are_bad_input(rendered: Path, aws_env: None) -> None:
    code, output = run("status", str(rendered), "--env", "test", "--var", "image_tag=v2")
    assert code == 2
    assert "is rendered already: --var and --var-file change nothing there" in output
