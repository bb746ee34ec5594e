"""The rendered OIDC deploy role allows every AWS call `cfngen deploy` and `cfngen plan` make.

The commands run on the emulator (create, a no-op redeploy, an update, a plan, a template
large enough for the artifact bucket); every call botocore sends is recorded on its way out
(botocore's client, passed through unchanged), and each is checked against the deploy role's
policy as the blueprint renders it: an Allow whose action and resource match, and no Deny. The
policy evaluation here is IAM's for what the policy uses: action and resource wildcards, Allow
and Deny, `Fn::Sub` with the environment's values; conditions are checked by the unit tests
(tests/kinds/test_deploy_role_stacks.py).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from click.testing import CliRunner

from cfngen.cli import cli
from tests.deploy.sample import sample_environment, with_stack, write_rendered
from tests.kinds.helpers import blueprint, build

ACCOUNT = "000000000000"  # the emulator's
REGION = "eu-west-1"
ENV_NAME = "sample-test"
SERVICE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ENV_NAME}-ci-cfn"
#: What the role is not given on purpose: the prerequisites check reports "not checked" when
#: denied, and sts:GetCallerIdentity needs no permission.
NOT_NEEDED = {
    "sts:GetCallerIdentity",
    "ssm:GetParameters",
    "secretsmanager:DescribeSecret",
    "route53:GetHostedZone",
    "acm:DescribeCertificate",
}
#: S3 operations whose IAM action has another name.
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    seen: list[tuple[str, str, dict[str, Any]]] = []
    real = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        seen.append((self.meta.service_model.endpoint_prefix, operation, dict(params)))
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    yield seen


def _substitute(value: Any) -> str | None:
    """A policy resource as text with the environment's values, or None (an import)."""
    if value == "*":
        return "*"
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return (
            value["Fn::Sub"]
            .replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", REGION)
            .replace("${AWS::AccountId}", ACCOUNT)
            .replace("${EnvironmentName}", ENV_NAME)
        )
    if value == {"Fn::GetAtt": ["CloudFormationServiceRole", "Arn"]}:
        return SERVICE_ROLE
    return None


def _policy() -> list[tuple[str, list[str], list[str]]]:
    t = build(
        blueprint(deploy_roles={"ci": {"provider": "github", "repository": "a/b"}}),
        "deploy-role-ci",
    )
    role = t["Resources"]["DeployRole"]["Properties"]
    out = []
    for st in role["Policies"][0]["PolicyDocument"]["Statement"]:
        resources = [r for r in map(_substitute, st["Resource"]) if r is not None]
        out.append((st["Effect"], st["Action"], resources))
    return out


def _action(service: str, operation: str) -> str:
    prefix = {"monitoring": "cloudwatch"}.get(service, service)
    if prefix == "s3":
        operation = S3_ACTIONS.get(operation, operation)
    return f"{prefix}:{operation}"


def _resource(service: str, params: dict[str, Any]) -> str:
    if service == "cloudformation" and "StackName" in params:
        name = params["StackName"]
        name = name.split("/")[1] if name.startswith("arn:") else name
        return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/id"
    if service == "ssm" and "Name" in params:
        return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{params['Name']}"
    if service == "s3" and "Bucket" in params:
        key = params.get("Key")
        return f"arn:aws:s3:::{params['Bucket']}" + (f"/{key}" if key else "")
    return "*"


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _allowed(policy: list[tuple[str, list[str], list[str]]], action: str, resource: str) -> bool:
    def hit(actions: list[str], resources: list[str]) -> bool:
        return any(_matches(a, action) for a in actions) and any(
            _matches(r, resource) for r in resources
        )

    if any(effect == "Deny" and hit(a, r) for effect, a, r in policy):
        return False
    return any(effect == "Allow" and hit(a, r) for effect, a, r in policy)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.xdist_group("ministack")
def test_the_deploy_role_allows_every_call_of_plan_and_deploy(
    emulator: str, tmp_path: Path, calls: list[tuple[str, str, dict[str, Any]]]
) -> None:
    env = sample_environment(ENV_NAME)
    # a template over 51,200 bytes goes through the artifact bucket
    big = env.stack("solo").body.replace(
        "Resources:", "Metadata:\n  Padding: '" + "x" * 60_000 + "'\nResources:", 1
    )
    env = with_stack(env, "solo", body=big)
    directory = write_rendered(env, tmp_path / "out")
    target = [str(directory), "--env", "test", "--endpoint-url", emulator, "--poll-interval", "0.1"]
    with_role = [*target, "--role-arn", SERVICE_ROLE]
    for args in (["deploy", *with_role, "--yes"], ["deploy", *with_role, "--yes"]):
        code, output = run(*args)
        assert code == 0, output
    changed = with_stack(env, "app-a", parameters={"EnvironmentName": ENV_NAME, "Setting": "two"})
    write_rendered(changed, tmp_path / "out")
    code, output = run("plan", *with_role)
    assert code == 0, output
    code, output = run("deploy", *with_role, "--yes")
    assert code == 0, output

    policy = _policy()
    actions = {(_action(s, op), _resource(s, p)) for s, op, p in calls}
    denied = sorted(
        f"{a} on {r}" for a, r in actions if a not in NOT_NEEDED and not _allowed(policy, a, r)
    )
    assert denied == []
    performed = {a for a, _ in actions}
    # the run really did what a pipeline's deploy does
    assert {
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "s3:PutObject",
    } <= performed
    change_sets = [p for s, op, p in calls if op == "CreateChangeSet"]
    assert change_sets and all(p.get("RoleARN") == SERVICE_ROLE for p in change_sets)
