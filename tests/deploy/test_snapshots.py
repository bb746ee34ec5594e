"""A snapshot before a stateful replacement: taken and waited for, or nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cfngen.deploy.aws import Clients
from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
from cfngen.deploy.diff import ResourceChange
from cfngen.deploy.poll import Poller, PollPolicy
from cfngen.deploy.snapshots import needs_snapshot, snapshot_name, take_snapshots
from cfngen.errors import OperationError
from tests.deploy.sample import sample_environment, with_stack

FAST = PollPolicy(initial=0.001, factor=1.0, maximum=0.001, timeout=5)
STACK = "sample-test-data"

TABLE = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  EnvironmentName: {{Type: String}}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{{AttributeName: {key}, AttributeType: S}}]
      KeySchema: [{{AttributeName: {key}, KeyType: HASH}}]
"""


def client(service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service, region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


@pytest.fixture
def stubs() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    cfn, rds = client("cloudformation"), client("rds")
    with Stubber(cfn) as cfn_stub, Stubber(rds) as rds_stub:
        yield cfn, cfn_stub, rds, rds_stub
        cfn_stub.assert_no_pending_responses()
        rds_stub.assert_no_pending_responses()


def db_change(action: str = "Modify", replacement: str = "True") -> ResourceChange:
    return ResourceChange("Db", "AWS::RDS::DBInstance", action, replacement=replacement)


def test_which_changes_get_a_snapshot() -> None:
    assert needs_snapshot(db_change())
    assert needs_snapshot(db_change(replacement="Conditional"))
    assert needs_snapshot(db_change("Remove", ""))
    assert not needs_snapshot(replace(db_change("Remove", ""), retained=True))
    assert not needs_snapshot(db_change(replacement="False"))
    assert not needs_snapshot(ResourceChange("B", "AWS::S3::Bucket", "Modify", "True"))
    name = snapshot_name("Dev--Stack", "My_Db", now=0)
    assert name == "cfngen-dev-stack-my-db-19700101000000"


def describe_resource(cfn_stub: Stubber) -> None:
    cfn_stub.add_response(
        "describe_stack_resource",
        {
            "StackResourceDetail": {
                "LogicalResourceId": "Db",
                "PhysicalResourceId": "abc123xyz",
                "ResourceType": "AWS::RDS::DBInstance",
                "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
                "ResourceStatus": "CREATE_COMPLETE",
            }
        },
        {"StackName": STACK, "LogicalResourceId": "Db"},
    )


def test_an_rds_snapshot_is_waited_for_until_available(
    stubs: tuple[Any, Stubber, Any, Stubber],
) -> None:
    cfn, cfn_stub, rds, rds_stub = stubs
    describe_resource(cfn_stub)
    rds_stub.add_response("create_db_snapshot", {"DBSnapshot": {"Status": "creating"}})
    for status in ("creating", "creating", "available"):
        rds_stub.add_response("describe_db_snapshots", {"DBSnapshots": [{"Status": status}]})
    taken = take_snapshots(cfn, lambda _: rds, STACK, [db_change()], Poller(FAST))
    assert [s.kind for s in taken] == ["RDS snapshot"]
    assert taken[0].name.startswith("cfngen-sample-test-data-db-")


def test_a_snapshot_that_cannot_be_taken_is_an_error(
    stubs: tuple[Any, Stubber, Any, Stubber],
) -> None:
    cfn, cfn_stub, rds, rds_stub = stubs
    describe_resource(cfn_stub)
    rds_stub.add_client_error(
        "create_db_snapshot",
        "InvalidDBInstanceState",
        "Cannot create a snapshot because the database instance abc123xyz is not currently in "
        "the available state.",
        400,
    )
    with pytest.raises(OperationError) as caught:
        take_snapshots(cfn, lambda _: rds, STACK, [db_change()], Poller(FAST))
    assert "snapshot of Db failed: InvalidDBInstanceState" in caught.value.render()


@pytest.mark.xdist_group("ministack")
def test_a_replaced_table_is_backed_up_first(emulator: str, clients: Clients) -> None:
    env = sample_environment()
    solo = env.stack("solo")
    first = replace(env, stacks=(replace(solo, name=STACK, body=TABLE.format(key="id")),))
    second = with_stack(first, "solo", body=TABLE.format(key="pk"))
    options = DeployOptions(poll=FAST)
    assert Deployment(first, clients, options).deploy().ok

    refused = Deployment(second, clients, options).deploy().results[0]
    assert refused.outcome is Outcome.FAILED and "--allow-replace" in refused.message

    allowed = Deployment(second, clients, replace(options, allow_replace=True)).deploy()
    result = allowed.results[0]
    assert result.outcome is Outcome.UPDATED, allowed.render()
    assert "snapshot first: DynamoDB backup cfngen-sample-test-data-table-" in result.message
    backups = clients.client("dynamodb").list_backups()["BackupSummaries"]
    assert [b["BackupName"] for b in backups] == [result.message.split("backup ")[1].split()[0]]
