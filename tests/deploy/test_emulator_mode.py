"""`--emulator`: deploy, plan and destroy a blueprint on a local MiniStack as a user types it.

Run as real processes with a user's AWS setup around them (a profile that would fail), to show
that emulator mode reads none of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from cfngen.compiler import compile_environment
from cfngen.deploy.emulator import create_stand_ins, free_port

BLUEPRINT = Path(__file__).resolve().parents[2] / "blueprints" / "legocity.yaml"


def user_environment(home: Path) -> dict[str, str]:
    """A user whose AWS_PROFILE names a profile their config does not have (boto3 would
    refuse to start with it)."""
    aws = home / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text("[profile work]\nregion = ap-south-1\nsso_start_url = https://x\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"HOME": str(home), "AWS_PROFILE": "gone", "PYTHONUNBUFFERED": "1"})
    return env


def cfngen(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cfngen", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.xdist_group("ministack")
def test_deploy_plan_and_destroy_with_emulator_never_read_the_profile(
    emulator: str, tmp_path: Path
) -> None:
    env = user_environment(tmp_path / "home")
    target = [str(BLUEPRINT), "--env", "dev", "--emulator", "--endpoint-url", emulator]

    # the parameters legocity's tasks read do not exist yet: nothing is changed
    missing = cfngen(env, "deploy", *target, "--yes", "--poll-interval", "0.1")
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert (
        "ssm-parameter /legocity/dev/broker/write-key/env (stack legocity-dev-service-broker): "
        "aws ssm put-parameter --name /legocity/dev/broker/write-key/env" in missing.stderr
    )
    assert "prerequisite(s) of legocity-dev missing; nothing was changed" in missing.stderr
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=emulator,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    live = [
        s
        for s in cfn.list_stacks()["StackSummaries"]
        if "legocity-dev" in s["StackName"] and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert not live
    ssm = boto3.client(
        "ssm",
        endpoint_url=emulator,
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    for name in ("/legocity/dev/broker/write-key/env", "/legocity/dev/external/weather/api-key"):
        ssm.put_parameter(Name=name, Type="SecureString", Value="x", Overwrite=True)
    # the images come from the shared scope's repositories: deployed first, then pushed to
    images = cfngen(env, "deploy", *target, "--yes", "--poll-interval", "0.1")
    assert images.returncode == 1
    assert "image legocity-shared-broker-images:dev-latest" in images.stderr, images.stderr
    scope = [str(BLUEPRINT), "--env", "shared", "--emulator", "--endpoint-url", emulator]
    shared = cfngen(env, "deploy", *scope, "--yes", "--poll-interval", "0.1")
    assert shared.returncode == 0 and "1 stacks: 1 created" in shared.stdout, shared.stderr
    create_stand_ins(compile_environment(BLUEPRINT, "dev"), emulator)

    first = cfngen(env, "deploy", *target, "--yes", "--poll-interval", "0.1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "14 stacks: 14 created" in first.stdout
    assert "not on the emulator: network: left out" in first.stderr
    assert "not on the emulator" not in first.stdout

    again = cfngen(env, "deploy", *target, "--yes", "--poll-interval", "0.1")
    assert again.returncode == 0 and "14 stacks: 14 unchanged" in again.stdout, again.stdout

    plan = cfngen(env, "plan", *target, "--format", "json", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["has_changes"] is False  # stdout is JSON only

    gone = cfngen(env, "destroy", *target, "--yes", "--poll-interval", "0.1")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert len(re.findall(r"^  legocity-dev-\S+ +deleted", gone.stdout, re.MULTILINE)) == 14
    # the payload database has DeletionPolicy: Snapshot: its final snapshot is named
    assert "final snapshots left behind (DeletionPolicy: Snapshot" in gone.stdout
    assert "AWS::RDS::DBInstance " in gone.stdout
    assert "aws rds describe-db-snapshots --db-instance-identifier" in gone.stdout


def test_emulator_without_a_ministack_is_bad_input(tmp_path: Path) -> None:
    env = user_environment(tmp_path / "home")
    endpoint = f"http://127.0.0.1:{free_port()}"
    done = cfngen(
        env, "plan", str(BLUEPRINT), "--env", "dev", "--emulator", "--endpoint-url", endpoint
    )
    assert done.returncode == 2, done.stderr
    assert f"--emulator: no MiniStack answers at {endpoint}" in done.stderr
    assert "Traceback" not in done.stderr


def test_emulator_refuses_a_profile(tmp_path: Path) -> None:
    env = user_environment(tmp_path / "home")
    done = cfngen(env, "status", str(BLUEPRINT), "--env", "dev", "--emulator", "--profile", "work")
    assert done.returncode == 2
    assert "--emulator never uses an AWS profile" in done.stderr
