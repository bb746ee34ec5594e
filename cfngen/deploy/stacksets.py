"""The CloudFormation StackSets calls of a multi-region environment, and their outcomes.

A stack of a multi-region environment that is the same in every region (cfngen.regions) is
one stack set named like the stack (`<EnvironmentName>-<component>`), administered in the
home region with self-managed permissions, with one stack instance per region in the
environment's own account. A stack set runs one operation at a time: every change is an
operation (CreateStackInstances, UpdateStackSet, DeleteStackInstances) that cfngen starts,
waits for (DescribeStackSetOperation) and then reads per region (ListStackInstances).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cfngen.deploy.aws import aws_failure, error_code, error_message
from cfngen.deploy.poll import Poller
from cfngen.errors import OperationError

ACTIVE = frozenset({"RUNNING", "QUEUED", "STOPPING"})
"""Operation states that are not over yet (DescribeStackSetOperation)."""

ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"
EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"


@dataclass(frozen=True)
class Instance:
    """One ListStackInstances summary: the stack set's stack in one region."""

    region: str
    status: str  # CURRENT | OUTDATED | INOPERABLE
    account: str = ""
    detailed: str = ""  # StackInstanceStatus.DetailedStatus: SUCCEEDED, FAILED, PENDING ...
    reason: str = ""
    stack_id: str = ""

    @property
    def current(self) -> bool:
        return self.status == "CURRENT"

    def describe(self) -> str:
        text = self.status + (f" ({self.detailed})" if self.detailed else "")
        return f"{text}: {self.reason}" if self.reason else text


def is_missing(err: ClientError) -> bool:
    return error_code(err) == "StackSetNotFoundException"


def describe_stack_set(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack set (DescribeStackSet), or None when there is none (or it was deleted)."""
    try:
        found = cfn.describe_stack_set(StackSetName=name)["StackSet"]
    except ClientError as err:
        if is_missing(err):
            return None
        raise aws_failure(f"{name}: DescribeStackSet failed", err) from err
    return None if found.get("Status") == "DELETED" else dict(found)


def list_instances(cfn: Any, name: str, account: str | None = None) -> dict[str, Instance]:
    """The stack set's instances by region (of `account`, when given); none when no set."""
    found: dict[str, Instance] = {}
    args: dict[str, Any] = {"StackSetName": name}
    if account:
        args["StackInstanceAccount"] = account
    try:
        while True:
            page = cfn.list_stack_instances(**args)
            for s in page.get("Summaries", []):
                found[s["Region"]] = Instance(
                    region=s["Region"],
                    account=str(s.get("Account", "")),
                    status=str(s.get("Status", "")),
                    detailed=str((s.get("StackInstanceStatus") or {}).get("DetailedStatus", "")),
                    reason=str(s.get("StatusReason", "") or ""),
                    stack_id=str(s.get("StackId", "") or ""),
                )
            if not page.get("NextToken"):
                return found
            args["NextToken"] = page["NextToken"]
    except ClientError as err:
        if is_missing(err):
            return {}
        raise aws_failure(f"{name}: ListStackInstances failed", err) from err


def preferences(settings: Mapping[str, Any], regions: Sequence[str]) -> dict[str, Any]:
    """OperationPreferences: the regions in the environment's order, one at a time or all at
    once, and how many regions may fail (0: the operation stops at the first failure)."""
    tolerance = int(settings.get("failure_tolerance", 0))
    parallel = settings.get("region_concurrency") == "parallel"
    return {
        "RegionConcurrencyType": "PARALLEL" if parallel else "SEQUENTIAL",
        "RegionOrder": list(regions),
        "FailureToleranceCount": tolerance,
        "MaxConcurrentCount": tolerance + 1,  # one account per region: never more than that
    }


def roles(settings: Mapping[str, Any]) -> dict[str, str]:
    """Self-managed permissions: the administration role (when not AWS's default name in the
    deploying account) and the execution role the target account holds."""
    out = {"ExecutionRoleName": str(settings.get("execution_role") or EXECUTION_ROLE)}
    if settings.get("administration_role"):
        out["AdministrationRoleARN"] = str(settings["administration_role"])
    return out


def _running(cfn: Any, name: str) -> list[str]:
    """Operations of the stack set that are not over (ListStackSetOperations)."""
    try:
        page = cfn.list_stack_set_operations(StackSetName=name)
    except ClientError as err:
        raise aws_failure(f"{name}: ListStackSetOperations failed", err) from err
    return [o["OperationId"] for o in page.get("Summaries", []) if o.get("Status") in ACTIVE]


def wait_operation(
    cfn: Any, name: str, operation_id: str, poller: Poller, on_status: Callable[[str], None]
) -> dict[str, Any]:
    """Poll DescribeStackSetOperation until the operation is over; its last description."""
    delays = poller.policy.delays()
    waited = 0.0
    while True:
        try:
            op = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation_id)
        except ClientError as err:
            raise aws_failure(f"{name}: DescribeStackSetOperation failed", err) from err
        found = dict(op["StackSetOperation"])
        if found.get("Status") not in ACTIVE:
            return found
        on_status(f"{found.get('Action', 'operation')} {found.get('Status')}")
        if waited > poller.policy.timeout:
            raise OperationError(f"{name}: operation {operation_id} still running; try again later")
        delay = next(delays)
        poller.sleep(delay)
        waited += delay


def run_operation(
    cfn: Any,
    name: str,
    action: str,
    start: Callable[[], str],
    poller: Poller,
    on_status: Callable[[str], None],
) -> dict[str, Any]:
    """Start an operation and wait for it. A stack set runs one operation at a time: when
    another is in progress ("Another Operation on StackSet ... is in progress"), wait for it
    and start again (a bounded number of times)."""
    for _ in range(5):
        try:
            operation_id = start()
        except ClientError as err:
            if error_code(err) != "OperationInProgressException":
                raise aws_failure(f"{name}: {action} failed", err) from err
            for other in _running(cfn, name):
                on_status(f"waiting for operation {other} (another run or by hand)")
                wait_operation(cfn, name, other, poller, on_status)
            continue
        return wait_operation(cfn, name, operation_id, poller, on_status)
    raise OperationError(f"{name}: other operations kept the stack set busy; try again")


def operation_failure(op: Mapping[str, Any], instances: Mapping[str, Instance]) -> str:
    """What went wrong, per region, for an operation that did not succeed."""
    failed = [
        f"{i.region}: {i.describe()}" for i in instances.values() if not i.current or i.reason
    ]
    head = f"operation {op.get('OperationId', '')} {op.get('Status', '')}".strip()
    reason = str(op.get("StatusReason", "") or "")
    return "; ".join([head + (f" ({reason})" if reason else ""), *failed])


def stack_set_error(err: ClientError) -> str:
    """AWS's own words, for a message."""
    return f"{error_code(err)}: {error_message(err)}"
