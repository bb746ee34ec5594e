"""Many regions: stacks deployed through CloudFormation StackSets (self-managed permissions).

MiniStack has no StackSets API, so these run against botocore's Stubber with AWS's response
shapes and error texts. Stubber fails a test on any call it did not expect, in order, so the
tests also pin down the calls of each path: an unchanged stack set costs two reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from cfngen.cli import cli
from cfngen.deploy.aws import Clients
from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
from cfngen.deploy.destroy import destroy_environment
from cfngen.deploy.diff import render_json, render_text
from cfngen.deploy.poll import PollPolicy
from cfngen.deploy.stacksets import preferences
from cfngen.deploy.status import environment_status
from cfngen.render import RenderedEnvironment
from tests.deploy.sample import sample_environment
from tests.reference import ROOT

FAST = PollPolicy(initial=0.001, factor=1.0, maximum=0.001, timeout=5)
ACCOUNT = "123456789012"
NAME = "sample-test-network"
HOME, DR = "eu-west-1", "eu-central-1"
SET_ID = f"{NAME}:4a0b7c1e-2f3d-4e5a-9b6c-7d8e9f0a1b2c"
SET_ARN = f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:stackset/{SET_ID}"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OWNED = [
    {"Key": "cfngen:blueprint", "Value": "sample"},
    {"Key": "cfngen:environment", "Value": "test"},
    {"Key": "project", "Value": "cfngen-tests"},
]
SETTINGS = {"execution_role": "AWSCloudFormationStackSetExecutionRole", "failure_tolerance": 0}
SETTINGS |= {"region_concurrency": "sequential"}
VPC_LIMIT = (
    "ResourceLogicalId:Vpc, ResourceType:AWS::EC2::VPC, ResourceStatusReason:The maximum number "
    "of VPCs has been reached. (Service: Ec2, Status Code: 400, Request ID: 5b7c0e1f-2a3b)."
)
IN_PROGRESS = f"Another Operation on StackSet {SET_ARN} is in progress"


@pytest.fixture
def env() -> RenderedEnvironment:
    full = sample_environment()
    network = replace(full.stack("network"), regions=(HOME, DR))
    return replace(
        full,
        stacks=(network,),
        regions=(HOME, DR),
        stack_sets=SETTINGS,
        target={"account": ACCOUNT},
    )


@pytest.fixture
def stubbed() -> Iterator[tuple[Clients, Stubber]]:
    kwargs: dict[str, Any] = {
        "region_name": HOME,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    cfn = boto3.client("cloudformation", **kwargs)
    s3 = boto3.client("s3", **kwargs)
    with Stubber(cfn) as stub:
        yield Clients(cloudformation=cfn, s3=s3, region=HOME), stub
        stub.assert_no_pending_responses()


def deployment(env: RenderedEnvironment, clients: Clients) -> Deployment:
    return Deployment(env, clients, DeployOptions(poll=FAST))


def not_found(stub: Stubber, operation: str, params: dict[str, Any]) -> None:
    stub.add_client_error(
        operation,
        "StackSetNotFoundException",
        f"StackSet {NAME} not found",
        http_status_code=404,
        expected_params=params,
    )


def stack_set(env: RenderedEnvironment) -> dict[str, Any]:
    stack = env.stack("network")
    return {
        "StackSet": {
            "StackSetName": NAME,
            "StackSetId": SET_ID,
            "Status": "ACTIVE",
            "TemplateBody": stack.body,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v} for k, v in stack.parameters.items()
            ],
            "Capabilities": list(stack.capabilities),
            "Tags": OWNED,
            "StackSetARN": SET_ARN,
            "AdministrationRoleARN": (
                f"arn:aws:iam::{ACCOUNT}:role/AWSCloudFormationStackSetAdministrationRole"
            ),
            "ExecutionRoleName": "AWSCloudFormationStackSetExecutionRole",
            "PermissionModel": "SELF_MANAGED",
        }
    }


def instance(
    region: str, status: str = "CURRENT", detailed: str = "SUCCEEDED", reason: str = ""
) -> dict[str, Any]:
    return {
        "StackSetId": SET_ID,
        "Region": region,
        "Account": ACCOUNT,
        "StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/StackSet-{NAME}-{region}/1",
        "Status": status,
        **({"StatusReason": reason} if reason else {}),
        "StackInstanceStatus": {"DetailedStatus": detailed},
        "DriftStatus": "NOT_CHECKED",
    }


def instances(stub: Stubber, *summaries: dict[str, Any], account: str | None = ACCOUNT) -> None:
    params: dict[str, Any] = {"StackSetName": NAME}
    if account:
        params["StackInstanceAccount"] = account
    stub.add_response("list_stack_instances", {"Summaries": list(summaries)}, params)


def operation(stub: Stubber, op_id: str, *statuses: str, action: str = "CREATE") -> None:
    for status in statuses:
        stub.add_response(
            "describe_stack_set_operation",
            {
                "StackSetOperation": {
                    "OperationId": op_id,
                    "StackSetId": SET_ID,
                    "Action": action,
                    "Status": status,
                    "CreationTimestamp": NOW,
                }
            },
            {"StackSetName": NAME, "OperationId": op_id},
        )


def sequential(*regions: str) -> dict[str, Any]:
    return {
        "RegionConcurrencyType": "SEQUENTIAL",
        "RegionOrder": list(regions),
        "FailureToleranceCount": 0,
        "MaxConcurrentCount": 1,
    }


def definition(env: RenderedEnvironment) -> dict[str, Any]:
    stack = env.stack("network")
    return {
        "TemplateBody": stack.body,
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(stack.parameters.items())
        ],
        "Capabilities": list(stack.capabilities),
        "Tags": OWNED,
        "ExecutionRoleName": "AWSCloudFormationStackSetExecutionRole",
    }


def no_plain_stack(stub: Stubber) -> None:
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {NAME} does not exist",
        expected_params={"StackName": NAME},
    )


def create_from_nothing(stub: Stubber, env: RenderedEnvironment, *, then: str) -> None:
    not_found(stub, "describe_stack_set", {"StackSetName": NAME})
    no_plain_stack(stub)
    stub.add_response(
        "create_stack_set",
        {"StackSetId": SET_ID},
        {
            "StackSetName": NAME,
            "Description": "sample-test network (cfngen)",
            "PermissionModel": "SELF_MANAGED",
            **definition(env),
        },
    )
    stub.add_response(
        "create_stack_instances",
        {"OperationId": "op-create"},
        {
            "StackSetName": NAME,
            "Accounts": [ACCOUNT],
            "Regions": [HOME, DR],
            "OperationPreferences": sequential(HOME, DR),
        },
    )
    operation(stub, "op-create", "RUNNING", then)


def test_preferences_keep_the_regions_order_and_stop_at_the_first_failure() -> None:
    assert preferences(SETTINGS, [HOME, DR]) == sequential(HOME, DR)
    parallel = preferences({"region_concurrency": "parallel", "failure_tolerance": 1}, [DR])
    assert parallel == {
        "RegionConcurrencyType": "PARALLEL",
        "RegionOrder": [DR],
        "FailureToleranceCount": 1,
        "MaxConcurrentCount": 2,
    }


def test_a_new_stack_set_gets_an_instance_in_every_region(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    create_from_nothing(stub, env, then="SUCCEEDED")
    instances(stub, instance(HOME), instance(DR))
    summary = deployment(env, clients).deploy()
    [result] = summary.results
    assert result.outcome is Outcome.CREATED, result
    assert result.regions == ((HOME, "CURRENT (SUCCEEDED)"), (DR, "CURRENT (SUCCEEDED)"))
    assert "      eu-central-1: CURRENT (SUCCEEDED)" in summary.render()


def test_a_region_that_fails_is_reported_and_a_rerun_converges(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    create_from_nothing(stub, env, then="FAILED")
    instances(
        stub,
        instance(HOME),
        instance(DR, "OUTDATED", "FAILED", VPC_LIMIT),
    )
    first = deployment(env, clients).deploy()
    [failed] = first.results
    assert failed.outcome is Outcome.FAILED
    assert failed.message == f"operation op-create FAILED; {DR}: OUTDATED (FAILED): {VPC_LIMIT}"
    assert failed.next_step == (
        f"fix the cause in {DR} and run the same command again: it updates {NAME}'s OUTDATED "
        "instances and creates the missing ones"
    )
    assert first.exit_code == 1

    # the cause is fixed: the same template goes to every region again (an update naming
    # only the outdated region would leave the others OUTDATED)
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR, "OUTDATED", "FAILED", VPC_LIMIT))
    stub.add_response(
        "update_stack_set",
        {"OperationId": "op-retry"},
        {
            "StackSetName": NAME,
            **definition(env),
            "OperationPreferences": sequential(HOME, DR),
            "Accounts": [ACCOUNT],
            "Regions": [HOME, DR],
        },
    )
    operation(stub, "op-retry", "SUCCEEDED", action="UPDATE")
    instances(stub, instance(HOME), instance(DR))
    again = deployment(env, clients).deploy()
    assert [(r.outcome, r.regions) for r in again.results] == [
        (Outcome.UPDATED, ((HOME, "CURRENT (SUCCEEDED)"), (DR, "CURRENT (SUCCEEDED)")))
    ]

    # and a third run finds nothing to do, in two read calls
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR))
    third = deployment(env, clients).deploy()
    assert [r.outcome for r in third.results] == [Outcome.UNCHANGED]


def test_an_operation_in_progress_is_waited_for_then_retried(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR, "OUTDATED", "CANCELLED"))
    update = {
        "StackSetName": NAME,
        **definition(env),
        "OperationPreferences": sequential(HOME, DR),
        "Accounts": [ACCOUNT],
        "Regions": [HOME, DR],
    }
    stub.add_client_error(
        "update_stack_set",
        "OperationInProgressException",
        IN_PROGRESS,
        http_status_code=409,
        expected_params=update,
    )
    stub.add_response(
        "list_stack_set_operations",
        {
            "Summaries": [
                {"OperationId": "op-other", "Action": "UPDATE", "Status": "RUNNING"},
                {"OperationId": "op-old", "Action": "CREATE", "Status": "SUCCEEDED"},
            ]
        },
        {"StackSetName": NAME},
    )
    operation(stub, "op-other", "RUNNING", "SUCCEEDED", action="UPDATE")
    stub.add_response("update_stack_set", {"OperationId": "op-mine"}, update)
    operation(stub, "op-mine", "SUCCEEDED", action="UPDATE")
    instances(stub, instance(HOME), instance(DR))
    [result] = deployment(env, clients).deploy().results
    assert result.outcome is Outcome.UPDATED, result


def test_a_stack_set_someone_else_owns_is_left_alone(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    foreign = stack_set(env)
    foreign["StackSet"]["Tags"] = [{"Key": "team", "Value": "other"}]
    stub.add_response("describe_stack_set", foreign, {"StackSetName": NAME})
    [result] = deployment(env, clients).deploy().results
    assert result.outcome is Outcome.FAILED
    assert "exists without cfngen's tags for sample/test" in result.message


def test_plan_lists_each_region(env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]) -> None:
    clients, stub = stubbed
    not_found(stub, "describe_stack_set", {"StackSetName": NAME})
    no_plain_stack(stub)
    report = deployment(env, clients).plan()
    assert render_text(report).splitlines()[:2] == [
        f"{NAME}: create",
        f"  regions (stack set): {HOME} create, {DR} create",
    ]
    assert '"region": "eu-central-1"' in render_json(report)

    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR, "OUTDATED", "FAILED", VPC_LIMIT))
    [plan] = deployment(env, clients).plan().stacks
    assert plan.action == "update"
    assert [(r["region"], r["action"], r["status"]) for r in plan.regions] == [
        (HOME, "update", "CURRENT (SUCCEEDED)"),
        (DR, "update", f"OUTDATED (FAILED): {VPC_LIMIT}"),
    ]


def test_status_has_a_row_per_region(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR, "OUTDATED", "FAILED", VPC_LIMIT))
    rows = environment_status(env, clients)
    assert [(r["region"], r["status"], r["reason"]) for r in rows] == [
        (HOME, "STACK_SET CURRENT (SUCCEEDED)", ""),
        (DR, "STACK_SET OUTDATED (FAILED)", VPC_LIMIT),
    ]


def test_destroy_removes_the_instances_then_the_stack_set(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR), account=None)
    stub.add_response(
        "delete_stack_instances",
        {"OperationId": "op-delete"},
        {
            "StackSetName": NAME,
            "Accounts": [ACCOUNT],
            "Regions": [HOME, DR],
            "RetainStacks": False,
            "OperationPreferences": sequential(HOME, DR),
        },
    )
    operation(stub, "op-delete", "RUNNING", "SUCCEEDED", action="DELETE")
    stub.add_response("delete_stack_set", {}, {"StackSetName": NAME})
    summary = destroy_environment(env, clients, poll=FAST)
    assert [(r.name, r.outcome, r.message) for r in summary.results] == [
        (NAME, "deleted", f"stack set and its instances in {DR}, {HOME}")
    ]

    # gone: a second destroy finds nothing
    not_found(stub, "describe_stack_set", {"StackSetName": NAME})
    again = destroy_environment(env, clients, poll=FAST)
    assert [r.outcome for r in again.results] == ["absent"]


def test_destroy_stops_when_an_instance_cannot_be_deleted(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR), account=None)
    stub.add_response("delete_stack_instances", {"OperationId": "op-delete"})
    operation(stub, "op-delete", "FAILED", action="DELETE")
    reason = (
        "ResourceLogicalId:Bucket, ResourceType:AWS::S3::Bucket, ResourceStatusReason:The "
        "bucket you tried to delete is not empty."
    )
    instances(stub, instance(DR, "INOPERABLE", "FAILED", reason), account=None)
    [result] = destroy_environment(env, clients, poll=FAST).results
    assert result.outcome == "failed"
    assert result.message == f"operation op-delete FAILED; {DR}: INOPERABLE (FAILED): {reason}"


@pytest.mark.xdist_group("ministack")
def test_the_emulator_refuses_a_multi_region_environment(emulator: str) -> None:
    """MiniStack has no StackSets API: a multi-region environment stops before any change."""
    example = str(ROOT / "examples" / "orders.yaml")
    result = CliRunner().invoke(
        cli, ["plan", example, "--env", "prod", "--emulator", "--endpoint-url", emulator]
    )
    assert result.exit_code == 2, result.output
    assert result.output.strip().endswith(
        "orders-prod deploys to eu-west-1, eu-central-1 through CloudFormation StackSets, which "
        "MiniStack does not have: on the emulator, use an environment with one region (without "
        "`regions`)"
    )


def test_an_update_is_planned_on_the_home_instance_and_refused_when_it_loses_data(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    """Every region gets the same template, so a change set on the home region's instance
    shows what an update does everywhere: removing a log group is refused before any
    UpdateStackSet, as it would be for a plain stack."""
    clients, stub = stubbed
    rendered = env.stack("network").body
    deployed = rendered.replace(
        "Resources:\n", "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n", 1
    )
    found = stack_set(env)
    found["StackSet"]["TemplateBody"] = deployed
    stub.add_response("describe_stack_set", found, {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR))
    home_stack = instance(HOME)["StackId"]
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": f"StackSet-{NAME}-{HOME}",
                    "StackId": home_stack,
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": NOW,
                    "Parameters": [
                        {"ParameterKey": "EnvironmentName", "ParameterValue": "sample-test"}
                    ],
                    "Tags": OWNED,
                }
            ]
        },
        {"StackName": home_stack},
    )
    stub.add_response(
        "get_template",
        {"TemplateBody": deployed},
        {"StackName": home_stack, "TemplateStage": "Original"},
    )
    change_set = f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:changeSet/cfngen-x/1"
    stub.add_response("create_change_set", {"Id": change_set, "StackId": home_stack})
    stub.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Remove",
                        "LogicalResourceId": "Logs",
                        "PhysicalResourceId": "sample-test-logs",
                        "ResourceType": "AWS::Logs::LogGroup",
                    },
                }
            ],
        },
    )
    stub.add_response("delete_change_set", {})
    [result] = deployment(env, clients).deploy().results
    assert result.outcome is Outcome.FAILED
    assert result.message == (
        "refused: Logs (AWS::Logs::LogGroup) would be deleted; re-run with --allow-replace if "
        "that is intended"
    )


def test_a_plain_stack_of_the_same_name_is_not_turned_into_a_stack_set(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    """The environment ran in one region before: its plain stack exports what the home
    instance would export, so creating the stack set would fail in the home region."""
    clients, stub = stubbed
    not_found(stub, "describe_stack_set", {"StackSetName": NAME})
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": NAME,
                    "StackId": f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:stack/{NAME}/1",
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": NOW,
                    "Tags": OWNED,
                }
            ]
        },
        {"StackName": NAME},
    )
    [result] = deployment(env, clients).deploy().results
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith(
        f"{NAME} is a plain stack (UPDATE_COMPLETE) of this environment from before it had "
        "several regions"
    )


def test_a_multi_region_environment_is_worked_on_from_its_home_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its stack sets and lock live in the home region: AWS_REGION does not move them, and a
    --region naming another one is refused before any call."""
    from cfngen.cli.target import make_target_clients
    from cfngen.compiler import compile_environment

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    prod = compile_environment(ROOT / "examples" / "orders.yaml", "prod")
    assert make_target_clients(prod, None, None, None).region == HOME
    result = CliRunner().invoke(
        cli, ["status", str(ROOT / "examples" / "orders.yaml"), "--env", "prod", "--region", DR]
    )
    assert result.exit_code == 2
    assert result.output.strip().endswith(
        f"orders-prod runs in {HOME}, {DR} and is deployed from its home region {HOME} (its "
        f"stack sets and lock live there): leave out --region {DR}"
    )


def test_an_instance_in_a_region_no_longer_named_is_reported_not_deleted(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber]
) -> None:
    clients, stub = stubbed
    stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
    instances(stub, instance(HOME), instance(DR), instance("us-east-2"))
    [result] = deployment(env, clients).deploy().results
    assert result.outcome is Outcome.UNCHANGED
    assert result.message == (
        "instances in us-east-2 are not in `regions` any more; remove them with aws "
        f"cloudformation delete-stack-instances --region {HOME} --stack-set-name {NAME} "
        f"--accounts {ACCOUNT} "
        "--regions us-east-2 --no-retain-stacks"
    )


def test_outputs_are_read_from_each_regions_instance(env: RenderedEnvironment) -> None:
    from cfngen.deploy.status import environment_outputs

    def client(region: str) -> Any:
        return boto3.client(
            "cloudformation", region_name=region, aws_access_key_id="t", aws_secret_access_key="t"
        )

    home, dr = client(HOME), client(DR)
    s3 = boto3.client("s3", region_name=HOME, aws_access_key_id="t", aws_secret_access_key="t")
    dr_clients = Clients(cloudformation=dr, s3=s3, region=DR)
    clients = Clients(cloudformation=home, s3=s3, region=HOME, make=lambda r: dr_clients)
    with Stubber(home) as home_stub, Stubber(dr) as dr_stub:
        instances(home_stub, instance(HOME), instance(DR))
        for stub, region in ((home_stub, HOME), (dr_stub, DR)):
            stack_id = instance(region)["StackId"]
            stub.add_response(
                "describe_stacks",
                {
                    "Stacks": [
                        {
                            "StackName": f"StackSet-{NAME}-{region}",
                            "StackId": stack_id,
                            "StackStatus": "CREATE_COMPLETE",
                            "CreationTime": NOW,
                            "Outputs": [
                                {
                                    "OutputKey": "TopicArn",
                                    "OutputValue": f"arn:aws:sns:{region}:{ACCOUNT}:events",
                                    "ExportName": "sample-test-network-TopicArn",
                                }
                            ],
                        }
                    ]
                },
                {"StackName": stack_id},
            )
        rows = environment_outputs(env, clients)
        home_stub.assert_no_pending_responses()
        dr_stub.assert_no_pending_responses()
    assert [(r["stack"], r["region"], r["value"]) for r in rows] == [
        (NAME, HOME, f"arn:aws:sns:{HOME}:{ACCOUNT}:events"),
        (NAME, DR, f"arn:aws:sns:{DR}:{ACCOUNT}:events"),
    ]


def _two_regions() -> tuple[Clients, Any, Any]:
    def client(region: str) -> Any:
        return boto3.client(
            "cloudformation", region_name=region, aws_access_key_id="t", aws_secret_access_key="t"
        )

    home, dr = client(HOME), client(DR)
    s3 = boto3.client("s3", region_name=HOME, aws_access_key_id="t", aws_secret_access_key="t")
    dr_clients = Clients(cloudformation=dr, s3=s3, region=DR)
    return Clients(cloudformation=home, s3=s3, region=HOME, make=lambda r: dr_clients), home, dr


def _instance_stack(region: str, protected: bool) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": f"StackSet-{NAME}-{region}",
                "StackId": instance(region)["StackId"],
                "StackStatus": "CREATE_COMPLETE",
                "CreationTime": NOW,
                "EnableTerminationProtection": protected,
            }
        ]
    }


def test_termination_protection_goes_on_every_regions_instance(env: RenderedEnvironment) -> None:
    protected = replace(env, stacks=(replace(env.stack("network"), termination_protection=True),))
    clients, home, dr = _two_regions()
    with Stubber(home) as home_stub, Stubber(dr) as dr_stub:
        home_stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
        instances(home_stub, instance(HOME), instance(DR, "OUTDATED", "FAILED", VPC_LIMIT))
        home_stub.add_response("update_stack_set", {"OperationId": "op-retry"})
        operation(home_stub, "op-retry", "SUCCEEDED", action="UPDATE")
        instances(home_stub, instance(HOME), instance(DR))
        for stub, region in ((home_stub, HOME), (dr_stub, DR)):
            stack_id = instance(region)["StackId"]
            stub.add_response(
                "describe_stacks", _instance_stack(region, region == HOME), {"StackName": stack_id}
            )
        dr_stub.add_response(
            "update_termination_protection",
            {"StackId": instance(DR)["StackId"]},
            {"EnableTerminationProtection": True, "StackName": instance(DR)["StackId"]},
        )
        [result] = deployment(protected, clients).deploy().results
        home_stub.assert_no_pending_responses()
        dr_stub.assert_no_pending_responses()
    assert result.outcome is Outcome.UPDATED, result.message

    # destroy refuses while an instance is protected, with the commands that turn it off
    with Stubber(home) as home_stub, Stubber(dr) as dr_stub:
        home_stub.add_response("describe_stack_set", stack_set(env), {"StackSetName": NAME})
        instances(home_stub, instance(HOME), instance(DR), account=None)
        dr_stub.add_response(
            "describe_stacks", _instance_stack(DR, True), {"StackName": instance(DR)["StackId"]}
        )
        home_stub.add_response(
            "describe_stacks",
            _instance_stack(HOME, False),
            {"StackName": instance(HOME)["StackId"]},
        )
        [refused] = destroy_environment(protected, clients, poll=FAST).results
        home_stub.assert_no_pending_responses()
        dr_stub.assert_no_pending_responses()
    assert refused.outcome == "failed"
    assert refused.message == (
        f"termination protection is on in {DR}; to really delete it: aws cloudformation "
        f"update-termination-protection --region {DR} --no-enable-termination-protection "
        f"--stack-name {instance(DR)['StackId']}"
    )
