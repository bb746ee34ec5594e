"""Deploy roles that can run `cfngen deploy`: a CloudFormation service role holds the resource
permissions, the deploy role may only pass it to CloudFormation, and change sets must name it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cfngen.compiler import Inputs, compile_environment, validate_blueprint
from cfngen.deploy.changeset import create_change_set
from cfngen.errors import BlueprintError
from cfngen.kinds.deploy_role.stacks import NAMESPACES, namespaces
from cfngen.render import load_template
from tests.kinds.helpers import blueprint, build
from tests.reference import GOLDEN, ROOT

GITHUB = {"provider": "github", "repository": "acme/shop", "branch": "main"}
GITLAB = {"provider": "gitlab", "project": "acme/shop", "branch": "main"}


def _statements(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    docs = resource["Properties"]["Policies"]
    return {st["Sid"]: st for d in docs for st in d["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize("role", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_the_deploy_role_may_only_pass_the_service_role_to_cloudformation(
    role: dict[str, Any],
) -> None:
    t = build(blueprint(deploy_roles={"ci": role}), "deploy-role-ci")
    roles = {k: v for k, v in t["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    deploy = next(v for k, v in roles.items() if k != "CloudFormationServiceRole")
    service = roles["CloudFormationServiceRole"]
    assert deploy["Properties"]["RoleName"] == {"Fn::Sub": "${EnvironmentName}-ci-deploy"}
    assert service["Properties"]["RoleName"] == {"Fn::Sub": "${EnvironmentName}-ci-cfn"}
    trust = service["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "cloudformation.amazonaws.com"}]

    allowed = _statements(deploy)
    service_arn = {"Fn::GetAtt": ["CloudFormationServiceRole", "Arn"]}
    passes = [s for s in allowed.values() if "iam:PassRole" in s["Action"]]
    if role["provider"] == "gitlab":  # github's also passes its services' task roles to ECS
        assert len(passes) == 1
    cfn_pass = allowed["PassOnlyTheServiceRole"]
    assert cfn_pass["Resource"] == [service_arn]
    assert cfn_pass["Condition"] == {
        "StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}
    }
    create = allowed["ChangeSetsThroughTheServiceRole"]
    assert create["Action"] == ["cloudformation:CreateChangeSet"]
    assert create["Condition"] == {"ArnEquals": {"cloudformation:RoleArn": service_arn}}
    stacks = "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:stack/${EnvironmentName}-*/*"
    assert create["Resource"] == [{"Fn::Sub": stacks}]
    denied = allowed["NotTheDeployRoleStacks"]
    assert denied["Effect"] == "Deny"
    assert "cloudformation:CreateChangeSet" in denied["Action"]
    lock = allowed["EnvironmentLock"]["Resource"]
    assert {
        "Fn::Sub": (
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
            "parameter/cfngen/locks/${EnvironmentName}"
        )
    } in lock
    # no CloudFormation action on every stack except the two reads AWS does not scope
    for st in allowed.values():
        if st["Effect"] == "Allow" and st["Resource"] == ["*"]:
            assert not {a for a in st["Action"] if a.startswith("cloudformation:")} - {
                "cloudformation:DescribeStacks",
                "cloudformation:ListImports",
            }

    own = _statements(service)
    assert own["ManageEnvironmentRoles"]["Resource"][0] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${EnvironmentName}-*"
    }
    never = own["NeverTheCiRoles"]
    assert never["Effect"] == "Deny"
    iam_role = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${EnvironmentName}"
    assert never["Resource"] == [
        {"Fn::Sub": f"{iam_role}-ci-deploy"},
        {"Fn::Sub": f"{iam_role}-ci-cfn"},
    ]
    assert "iam:*" not in own["ManageEnvironmentResources"]["Action"]
    assert t["Outputs"]["ServiceRoleArn"]["Value"] == service_arn


def test_deploy_stacks_false_keeps_only_the_providers_permissions() -> None:
    t = build(blueprint(deploy_roles={"ci": {**GITLAB, "deploy_stacks": False}}), "deploy-role-ci")
    assert "CloudFormationServiceRole" not in t["Resources"]
    role = t["Resources"]["Role"]["Properties"]
    assert "RoleName" not in role
    actions = [a for st in _statements(t["Resources"]["Role"]).values() for a in st["Action"]]
    assert not [a for a in actions if a.startswith("cloudformation:")]


def test_a_deploy_role_name_too_long_for_iam_is_a_blueprint_error(tmp_path: Path) -> None:
    name = "continuous-delivery-role"  # 24: allowed as a name, too long in the role name
    path = tmp_path / "shop.yaml"
    path.write_text(
        "blueprint: a-rather-long-blueprint-name\nregion: eu-west-1\n"
        f"deploy_roles:\n  {name}: {{provider: gitlab, project: acme/shop, branch: main}}\n"
        "environments: {production: {}}\n"
    )
    with pytest.raises(BlueprintError) as err:
        validate_blueprint(Inputs(path))
    text = str(err.value.render())
    assert f"deploy_roles.{name}" in text
    assert "is 71 characters long; AWS allows 64 (use a name of at most 17 characters)" in text


def _rendered_types() -> set[str]:
    types: set[str] = set()
    for path in GOLDEN.rglob("*.yaml"):
        types |= {r["Type"] for r in load_template(path.read_text())["Resources"].values()}
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        for prep in validate_blueprint(Inputs(example)):
            for stack in compile_environment(example, prep.env).stacks:
                body = load_template(stack.body)
                types |= {r["Type"] for r in body["Resources"].values()}
    return types


def test_the_service_role_covers_every_resource_type_cfngen_renders() -> None:
    """A type missing from NAMESPACES would fail the pipeline's deploy with AccessDenied."""
    types = _rendered_types()
    assert len(types) > 40  # the goldens and examples were really read
    missing = sorted(
        t for t in types if not t.startswith("Custom::") and t.split("::")[1] not in NAMESPACES
    )
    assert missing == []
    if any(t.startswith("Custom::") for t in types):
        assert "lambda" in namespaces()  # CloudFormation invokes the function behind it


def test_change_sets_carry_the_service_role_when_given() -> None:
    cfn = boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    arn = "arn:aws:iam::111122223333:role/shop-dev-ci-cfn"
    expected = {
        "StackName": "shop-dev-network",
        "ChangeSetName": ANY,
        "ChangeSetType": "CREATE",
        "Parameters": [],
        "Capabilities": [],
        "Tags": [],
        "Description": "created by cfngen",
        "TemplateBody": "Resources: {}",
        "RoleARN": arn,
    }
    with Stubber(cfn) as stub:
        stub.add_response("create_change_set", {"Id": "cs", "StackId": "st"}, expected)
        without = {k: v for k, v in expected.items() if k != "RoleARN"}
        stub.add_response("create_change_set", {"Id": "cs", "StackId": "st"}, without)
        for role in (arn, None):
            create_change_set(
                cfn,
                stack_name="shop-dev-network",
                change_set_type="CREATE",
                template={"TemplateBody": "Resources: {}"},
                parameters={},
                capabilities=(),
                tags={},
                role_arn=role,
            )
        stub.assert_no_pending_responses()


def test_role_arn_flag_and_setting_must_be_role_arns(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cfngen.cli import cli

    result = CliRunner().invoke(
        cli, ["deploy", str(tmp_path), "--env", "dev", "--role-arn", "shop-dev-ci-cfn", "--yes"]
    )
    assert result.exit_code == 2
    assert "Invalid value for '--role-arn': 'shop-dev-ci-cfn' is not an IAM role ARN" in (
        result.output
    )
    path = tmp_path / "shop.yaml"
    path.write_text(
        "blueprint: shop\nregion: eu-west-1\ndeploy: {cloudformation_role: shop-dev-ci-cfn}\n"
        "environments: {dev: {}}\n"
    )
    with pytest.raises(BlueprintError) as err:
        validate_blueprint(Inputs(path))
    assert (
        "shop.yaml:3:9: deploy: cloudformation_role 'shop-dev-ci-cfn' is not an IAM role ARN"
        in (err.value.render())
    )


def test_cloudformation_role_must_be_a_role_of_the_environments_account(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "blueprint: shop\nregion: eu-west-1\n"
        "deploy:\n  account: '111122223333'\n"
        "  cloudformation_role: arn:aws:iam::444455556666:role/shop-dev-ci-cfn\n"
        "environments: {dev: {}}\n"
    )
    with pytest.raises(BlueprintError) as err:
        validate_blueprint(Inputs(path))
    assert "cloudformation_role is in account 444455556666, the environment in 111122223333" in (
        err.value.render()
    )


# -- CFG029: the deploy role may pass its service role, and only what its pipeline needs ----


def _passes(passed: str, declared: bool = True) -> list[tuple[str, ...]]:
    from cfngen.verify import Environment, Stack
    from tests.checks.test_wiring import hits
    from tests.checks.test_wiring_grants import DEPLOYS, SERVICE, _parse

    text = (
        SERVICE.replace("FAMILY", "web")
        .replace("PASSED", passed)
        .replace(
            "  OtherRole:\n",
            "  CloudFormationServiceRole:\n    Type: AWS::IAM::Role\n  OtherRole:\n",
        )
    )
    stacks = [Stack("service-web", "shop-dev-service-web", "web.yaml", _parse(text))]
    stacks_access = {
        "role": "service-web/DeployRole",
        "need": "deploy:stacks",
        "resource": "ref:CloudFormationServiceRole",
        "source": "deploy_roles.github",
    }
    accesses = (DEPLOYS, stacks_access) if declared else (DEPLOYS,)
    return hits("CFG029", Environment(stacks, "eu-west-1", "shop-dev", (), accesses))


OWN = "!GetAtt ExecutionRole.Arn, !GetAtt TaskRole.Arn"


def test_cfg029_a_deploy_role_may_pass_its_declared_service_role() -> None:
    assert _passes(f"[{OWN}, !GetAtt CloudFormationServiceRole.Arn]") == []
    # undeclared (deploy_stacks off), passing it is passing a role beyond the services'
    (found,) = _passes(f"[{OWN}, !GetAtt CloudFormationServiceRole.Arn]", declared=False)
    assert found[2].endswith("task and execution roles: CloudFormationServiceRole")
    # declared but not allowed: cfngen deploy would fail at CreateChangeSet
    (found,) = _passes(f"[{OWN}]")
    assert found[2].startswith(
        "cannot pass the CloudFormation service role to the change sets of `cfngen deploy` "
        "(CloudFormationServiceRole): missing iam:PassRole"
    )
    # and the service role does not make other roles passable
    (found,) = _passes(f"[{OWN}, !GetAtt CloudFormationServiceRole.Arn, !GetAtt OtherRole.Arn]")
    assert found[2] == "may pass roles beyond its services' task and execution roles: OtherRole"


@pytest.mark.parametrize("role", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_a_multi_region_environment_s_deploy_role_may_run_its_stack_sets(
    role: dict[str, Any],
) -> None:
    """`cfngen deploy` of an environment in several regions creates and updates stack sets
    (self-managed: it passes the StackSets administration role) and plans an update with a
    change set on the home region's instance (`StackSet-<name>-<id>`); a one-region
    environment's role gets none of it."""
    single = _statements(
        next(
            r
            for k, r in build(blueprint(deploy_roles={"ci": role}), "deploy-role-ci")[
                "Resources"
            ].items()
            if r["Type"] == "AWS::IAM::Role" and k != "CloudFormationServiceRole"
        )
    )
    assert "EnvironmentStackSets" not in single
    bp = blueprint(
        deploy_roles={"ci": role},
        regions=["eu-west-1", "eu-central-1"],
        deploy={
            "stack_sets": {
                "administration_role": "arn:aws:iam::111122223333:role/StackSetAdmin",
            }
        },
    )
    t = build(bp, "deploy-role-ci")
    deploy = next(
        r
        for k, r in t["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and k != "CloudFormationServiceRole"
    )
    allowed = _statements(deploy)
    sets = allowed["EnvironmentStackSets"]
    assert "cloudformation:CreateStackSet" in sets["Action"]
    assert "cloudformation:CreateStackInstances" in sets["Action"]
    assert sets["Resource"][0] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:"
        "stackset/${EnvironmentName}-*:*"
    }
    admin = allowed["PassTheStackSetsAdministrationRole"]
    assert admin["Resource"] == [{"Fn::Sub": "arn:aws:iam::111122223333:role/StackSetAdmin"}]
    instances = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:*:${AWS::AccountId}:"
        "stack/StackSet-${EnvironmentName}-*/*"
    }
    assert instances in allowed["ChangeSetsThroughTheServiceRole"]["Resource"]
    assert allowed["PlanOnTheHomeInstance"]["Resource"] == [instances]
    # every call the stack set code makes is granted
    from cfngen.kinds.deploy_role.stacks import STACK_SET_ACTIONS

    calls = set()
    for module in ("stacksets.py", "stackset_deploy.py"):
        text = (ROOT / "cfngen" / "deploy" / module).read_text()
        calls |= set(re.findall(r"\bcfn\.([a-z_]+)\(", text))
    granted = {a.split(":")[1] for a in STACK_SET_ACTIONS} | {
        "GetTemplate",
        "UpdateTerminationProtection",
    }
    wanted = {"".join(w.title() for w in c.split("_")) for c in calls}
    assert wanted <= granted, wanted - granted
