"""The runbook of a rendered folder, replayed by hand: the AWS CLI v1, the folder alone, MiniStack.

An ops engineer handed only `out/dev/` runs the shell blocks of its README.md ("Deploy with the
AWS CLI"). The stacks must come up as `cfngen deploy` would make them: `cfngen plan` on the
folder finds nothing to change, `cfngen deploy` leaves every stack unchanged (so it takes the
hand-made stacks as its own), termination protection, capabilities and tags are the manifest's,
the template over 51,200 bytes went through cfngen's artifact bucket, and running the blocks a
second time changes nothing.

The blueprint is small and everything in it is something MiniStack creates (no exclusions,
so the templates replayed are exactly the rendered ones): an existing network, security groups
(whose CIDR rules make `security.yaml` larger than 51,200 bytes), a versioned bucket and a
GitHub deploy role (CAPABILITY_IAM), with termination protection on.

The AWS CLI v1 comes from `make awscli` (`.awscli-venv`, or AWSCLI_BIN): it pins its own
botocore. A missing CLI fails the test, as a missing MiniStack does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.artifact_bucket import MAX_TEMPLATE_BODY, default_bucket_name
from cfngen.cli import cli
from cfngen.deploy.aws import Clients
from cfngen.deploy.emulator import REPO
from cfngen.deploy.emulator_gaps import emulator_environment
from cfngen.render import RenderedEnvironment

pytestmark = pytest.mark.xdist_group("ministack")

MINISTACK_ACCOUNT = "000000000000"
OIDC_PROVIDER = (
    f"arn:aws:iam::{MINISTACK_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
)


def _blueprint() -> str:
    groups = []
    for g in range(6):  # 6 groups x 50 described CIDR rules: security.yaml passes 51,200 bytes
        rules = "\n".join(
            f"      - {{port: {1000 + i}, cidr: 10.{g}.{i}.0/24, "
            f'description: "partner range {g}-{i} for the batch uploads"}}'
            for i in range(50)
        )
        groups.append(
            f"  partners-{g}:\n    description: Partner uploads {g}\n    ingress:\n{rules}\n"
            "    egress: []\n"
        )
    return f"""\
blueprint: handoff
region: eu-west-1
description: what an ops team is handed, replayed by hand
tags: {{team: ops, cost-centre: "platform 7"}}

network:
  existing:
    vpc_id: vpc-0123456789abcdef0
    private_subnets: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]

security_groups:
{"".join(groups)}
buckets:
  media: {{versioning: true}}

deploy_roles:
  github:
    provider: github
    repository: example/handoff
    branch: main
    oidc_provider_arn: {OIDC_PROVIDER}

environments:
  dev:
    deploy: {{termination_protection: true}}
"""


def _aws_cli() -> Path:
    binary = Path(os.environ.get("AWSCLI_BIN", str(REPO / ".awscli-venv" / "bin" / "aws")))
    if not binary.is_file():
        pytest.fail(
            f"AWS CLI v1 not found at {binary}: run `make awscli` (or set AWSCLI_BIN). The "
            "runbook replay needs it and is not skipped without it.",
            pytrace=False,
        )
    return binary


def _shell_blocks(runbook: str) -> str:
    """The ```sh blocks of "Deploy with the AWS CLI", up to "Or with cfngen"."""
    section = runbook.split("\n## Deploy with the AWS CLI\n", 1)[1].split("\n## ", 1)[0]
    by_hand = section.split("\nOr with cfngen", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```$", by_hand, flags=re.S | re.M)
    assert len(blocks) == 2, f"expected the artifact bucket's block and the deploy block: {blocks}"
    return "\n".join(blocks)


def _replay(script: str, folder: Path, endpoint: str, bin_dir: Path) -> str:
    """Run the blocks with bash, from the folder, as a person would: only `aws` on the PATH
    is the project's CLI v1, and no region is configured (every command names its own)."""
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(folder),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a hung CLI fails the test instead of the whole run; not a timing check
    )
    assert done.returncode == 0, f"replay failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _cfngen(folder: Path, endpoint: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, [*args, ".", "--env", "dev", "--endpoint-url", endpoint], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_runbook_replayed_with_aws_cli_v1_makes_the_stacks_cfngen_would(
    emulator: str, clients: Clients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = _aws_cli()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").symlink_to(aws)

    source = tmp_path / "source"
    source.mkdir()
    (source / "handoff.yaml").write_text(_blueprint())
    out = source / "out"
    rendered = CliRunner().invoke(
        cli, ["render", str(source / "handoff.yaml"), "--env", "dev", "-o", str(out)]
    )
    assert rendered.exit_code == 0, rendered.output
    folder = tmp_path / "handed-over"  # the rendered folder alone, nothing else
    shutil.copytree(out / "dev", folder)
    shutil.rmtree(source)

    env = RenderedEnvironment.from_directory(folder)
    assert emulator_environment(env)[1] == [], "MiniStack must create every resource here"
    large = [s for s in env.stacks if len(s.body.encode()) > MAX_TEMPLATE_BODY]
    assert [s.component for s in large] == ["security"]
    assert any(s.capabilities for s in env.stacks)
    assert all(s.termination_protection for s in env.stacks)

    script = _shell_blocks((folder / "README.md").read_text())
    first = _replay(script, folder, emulator, bin_dir)
    assert first.count("Successfully created/updated stack") == len(env.stacks), first

    cfn = clients.cloudformation
    for stack in env.stacks:
        found = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]
        assert found["StackStatus"] == "CREATE_COMPLETE", stack.name
        assert found["EnableTerminationProtection"] is True, stack.name
        assert sorted(found.get("Capabilities", [])) == sorted(stack.capabilities), stack.name
        deployed_tags = {t["Key"]: t["Value"] for t in found["Tags"]}
        assert deployed_tags == {
            **stack.tags,
            "cfngen:blueprint": "handoff",
            "cfngen:environment": "dev",
        }, stack.name
        assert deployed_tags["cost-centre"] == "platform 7"  # a value with a space, quoted
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in found["Parameters"]}
        assert parameters == stack.parameters, stack.name

    # the large template went through cfngen's own artifact bucket, hardened as cfngen makes it
    bucket = default_bucket_name(MINISTACK_ACCOUNT, "eu-west-1")
    objects = clients.s3.list_objects_v2(Bucket=bucket, Prefix="handoff-dev/security/")
    keys = [o["Key"] for o in objects.get("Contents", [])]
    assert len(keys) == 1, keys
    uploaded = clients.s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert uploaded == (folder / "security.yaml").read_bytes()
    block = clients.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = json.loads(clients.s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Resource"] == [
        f"arn:aws:s3:::{bucket}",
        f"arn:aws:s3:::{bucket}/*",
    ]
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    # cfngen, run from the folder as the runbook says, finds exactly what it would have made
    monkeypatch.chdir(folder)
    code, output = _cfngen(folder, emulator, "plan", "--detailed-exitcode")
    assert code == 0, output
    assert f"plan for handoff-dev: {len(env.stacks)} unchanged" in output
    code, output = _cfngen(folder, emulator, "deploy", "--yes")
    assert code == 0, output
    assert output.count("unchanged") >= len(env.stacks), output

    # a second replay is clean: every change set is empty, no stack is touched
    before = {
        s.name: cfn.describe_stacks(StackName=s.name)["Stacks"][0].get("LastUpdatedTime")
        for s in env.stacks
    }
    second = _replay(script, folder, emulator, bin_dir)
    assert "Successfully created/updated stack" not in second, second
    assert second.count("No changes to deploy") == len(env.stacks), second
    after = {
        s.name: cfn.describe_stacks(StackName=s.name)["Stacks"][0].get("LastUpdatedTime")
        for s in env.stacks
    }
    assert after == before
