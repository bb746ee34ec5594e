"""An environment that names its account is deployed only with that account's credentials:
checked against the emulator's fixed account before any other call."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest

from tests.deploy.test_emulator_mode import user_environment

BLUEPRINT = textwrap.dedent(
    """\
    blueprint: acct
    region: eu-west-1
    deploy: {account: "%s"}
    buckets: {files: {}}
    environments: {dev: {}}
    """
)


def _cfngen(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfngen", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.xdist_group("ministack")
def test_another_account_is_refused_before_any_change(emulator: str, tmp_path: Path) -> None:
    env = user_environment(tmp_path / "home")
    sts = boto3.client(
        "sts",
        endpoint_url=emulator,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    emulator_account = sts.get_caller_identity()["Account"]
    blueprint = tmp_path / "bp.yaml"
    blueprint.write_text(BLUEPRINT % "111122223333")
    target = [str(blueprint), "--env", "dev", "--emulator", "--endpoint-url", emulator]

    refused = _cfngen(env, "deploy", *target, "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "environment dev lives in account 111122223333" in refused.stderr
    assert f"these credentials are account {emulator_account}'s" in refused.stderr
    assert "Traceback" not in refused.stderr
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=emulator,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    names = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
    assert not any(n.startswith("acct-dev-") for n in names), names  # nothing was created

    blueprint.write_text(BLUEPRINT % emulator_account)
    accepted = _cfngen(env, "plan", *target)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
