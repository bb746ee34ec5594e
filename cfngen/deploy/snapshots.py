"""A snapshot before a stateful replacement or deletion, where the resource supports one.

`deploy --allow-replace` lets a change set replace or delete a database. Before it runs,
cfngen snapshots each RDS instance and cluster (CreateDBSnapshot / CreateDBClusterSnapshot)
and backs up each DynamoDB table (CreateBackup) that the change set replaces or deletes, and
waits until the snapshot is available. If any snapshot fails, the change set is deleted and
nothing changes. The snapshots are kept (they are the way back); their names are printed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cfngen.deploy.aws import aws_failure
from cfngen.deploy.diff import ResourceChange
from cfngen.deploy.poll import Poller
from cfngen.errors import OperationError

SNAPSHOT_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table")


@dataclass(frozen=True)
class Snapshot:
    resource: str  # logical id
    kind: str  # "RDS snapshot" | "RDS cluster snapshot" | "DynamoDB backup"
    name: str  # snapshot identifier or backup ARN

    def describe(self) -> str:
        return f"{self.kind} {self.name} (of {self.resource})"


def needs_snapshot(change: ResourceChange) -> bool:
    if change.resource_type not in SNAPSHOT_TYPES:
        return False
    if change.action == "Remove":
        return not change.retained
    return change.action == "Modify" and change.replacement in ("True", "Conditional")


def snapshot_name(stack: str, logical_id: str, now: float | None = None) -> str:
    """A valid RDS snapshot identifier (letters, digits, single hyphens; starts with a letter)."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() if now is None else now))
    raw = f"cfngen-{stack}-{logical_id}-{stamp}".lower()
    clean = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")
    return clean[:255].rstrip("-")


def take_snapshots(
    cfn: Any,
    client: Callable[[str], Any],
    stack: str,
    changes: list[ResourceChange],
    poller: Poller,
    on_status: Callable[[str], None] = lambda _: None,
) -> list[Snapshot]:
    """Snapshot every resource `changes` would replace or delete; raise OperationError if one
    cannot be taken. `client(service)` gives the region's rds / dynamodb client."""
    taken: list[Snapshot] = []
    for change in changes:
        if not needs_snapshot(change):
            continue
        lid = change.logical_id
        try:
            detail = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=lid)
            physical = detail["StackResourceDetail"]["PhysicalResourceId"]
            on_status(f"snapshot of {lid}")
            taken.append(_snapshot(client, change.resource_type, lid, physical, stack, poller))
        except (ClientError, BotoCoreError) as err:
            raise aws_failure(f"snapshot of {lid} failed", err) from err
    return taken


def _snapshot(
    client: Callable[[str], Any], kind: str, lid: str, physical: str, stack: str, poller: Poller
) -> Snapshot:
    name = snapshot_name(stack, lid)
    if kind == "AWS::RDS::DBInstance":
        rds = client("rds")
        rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier=physical)
        _wait(
            poller,
            lambda: rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"][0][
                "Status"
            ],
            name,
        )
        return Snapshot(lid, "RDS snapshot", name)
    if kind == "AWS::RDS::DBCluster":
        rds = client("rds")
        rds.create_db_cluster_snapshot(
            DBClusterSnapshotIdentifier=name, DBClusterIdentifier=physical
        )
        _wait(
            poller,
            lambda: rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)[
                "DBClusterSnapshots"
            ][0]["Status"],
            name,
        )
        return Snapshot(lid, "RDS cluster snapshot", name)
    dynamodb = client("dynamodb")
    arn = dynamodb.create_backup(TableName=physical, BackupName=name)["BackupDetails"]["BackupArn"]
    _wait(
        poller,
        lambda: dynamodb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"][
            "BackupStatus"
        ],
        name,
    )
    return Snapshot(lid, "DynamoDB backup", name)


def _wait(poller: Poller, status: Callable[[], str], name: str) -> None:
    """Until the snapshot is available; a failed or deleted one is an error."""
    waited = 0.0
    for delay in poller.policy.delays():
        state = str(status()).lower()
        if state == "available":
            return
        if state in ("failed", "deleted", "error", "incompatible-restore"):
            raise OperationError(f"snapshot {name} ended {state}")
        if waited > poller.policy.timeout:
            raise OperationError(f"snapshot {name} still {state} after {waited:.0f} s")
        poller.sleep(delay)
        waited += delay
