"""Change sets: create, wait, execute, delete, with typed outcomes instead of string matching.

AWS reports "nothing to change" and "someone else is updating this stack" only as English text.
Those matches live in exactly two named functions here (`is_no_changes`, `busy_status`), so when
AWS rewords a message there is one place to fix and one test that shows it.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cfngen.deploy.aws import aws_failure, error_code, error_message
from cfngen.deploy.poll import Poller

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

_NO_CHANGES = (
    "didn't contain changes",  # a change set with nothing to do (CreateChangeSet/DescribeChangeSet)
    "No updates are to be performed",  # UpdateStack, and CreateChangeSet in a few edge cases
)
_BUSY = re.compile(r"is in (?P<status>[A-Z_]+_IN_PROGRESS) state and can not be updated")


def is_no_changes(message: str) -> bool:
    """True when AWS says a change set or update contains no changes.

    The only place that matches this text: an empty change set is success, not failure.
    """
    return any(marker in message for marker in _NO_CHANGES)


def busy_status(message: str) -> str | None:
    """The in-progress status when AWS refuses because another operation runs on the stack.

    AWS: "Stack:arn:aws:cloudformation:...:stack/X/... is in UPDATE_IN_PROGRESS state and can not
    be updated." Returns e.g. "UPDATE_IN_PROGRESS", or None for any other message.
    """
    match = _BUSY.search(message)
    return match.group("status") if match else None


class ChangeSetState(enum.Enum):
    READY = "ready"  # CREATE_COMPLETE and executable
    EMPTY = "empty"  # no changes: delete it, the stack is up to date
    FAILED = "failed"  # could not be created; `reason` says why


@dataclass(frozen=True)
class ChangeSet:
    """A described change set: its id, outcome and resource changes (all pages)."""

    id: str
    state: ChangeSetState
    reason: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)


class StackBusyError(Exception):
    """Another operation is running on the stack (typed form of AWS's "can not be updated")."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def new_change_set_name(run_id: str = "") -> str:
    """A unique, sortable, recognisable name: cfngen-20260101T120000-1a2b3c4d, or with the
    run id of the deploy holding the environment's lock: cfngen-20260101T120000-<run id>-1a2b."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if run_id:
        return f"cfngen-{stamp}-{run_id}-{uuid.uuid4().hex[:4]}"
    return f"cfngen-{stamp}-{uuid.uuid4().hex[:8]}"


def create_change_set(
    cfn: CloudFormationClient,
    *,
    stack_name: str,
    change_set_type: str,
    template: dict[str, str],
    parameters: dict[str, str],
    capabilities: tuple[str, ...],
    tags: dict[str, str],
    run_id: str = "",
    role_arn: str | None = None,
) -> ChangeSet | tuple[str, str]:
    """Create a change set; returns (change set id, stack id), or an EMPTY ChangeSet.

    `role_arn` is the CloudFormation service role the change set executes with (RoleARN); the
    stack keeps it for later operations, its deletion included.

    Raises StackBusyError when another operation is running on the stack.
    """
    kwargs: dict[str, Any] = {
        "StackName": stack_name,
        "ChangeSetName": new_change_set_name(run_id),
        "ChangeSetType": change_set_type,
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())
        ],
        "Capabilities": list(capabilities),
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        "Description": "created by cfngen",
        **template,
    }
    if role_arn:
        kwargs["RoleARN"] = role_arn
    try:
        response = cfn.create_change_set(**kwargs)
    except ClientError as err:
        message = error_message(err)
        if error_code(err) == "ValidationError" and is_no_changes(message):
            return ChangeSet(id="", state=ChangeSetState.EMPTY, reason=message)
        status = busy_status(message)
        if status:
            raise StackBusyError(status) from err
        raise aws_failure(f"{stack_name}: CreateChangeSet failed", err) from err
    return str(response["Id"]), str(response.get("StackId", stack_name))


def wait_for_change_set(
    cfn: CloudFormationClient,
    stack_name: str,
    change_set_id: str,
    poller: Poller,
    *,
    include_property_values: bool,
) -> ChangeSet:
    """Poll DescribeChangeSet until AWS finished computing it, then collect every page."""
    delays = poller.policy.delays()
    extra: dict[str, Any] = {"IncludePropertyValues": True} if include_property_values else {}
    while True:
        try:
            page = cfn.describe_change_set(
                StackName=stack_name, ChangeSetName=change_set_id, **extra
            )
        except ClientError as err:
            raise aws_failure("DescribeChangeSet failed", err) from err
        status = page["Status"]
        if status == "FAILED":
            reason = page.get("StatusReason", "")
            state = ChangeSetState.EMPTY if is_no_changes(reason) else ChangeSetState.FAILED
            return ChangeSet(id=change_set_id, state=state, reason=reason)
        if status == "CREATE_COMPLETE":
            changes = list(page.get("Changes", []))
            token = page.get("NextToken")
            while token:
                page = cfn.describe_change_set(
                    StackName=stack_name, ChangeSetName=change_set_id, NextToken=token, **extra
                )
                changes.extend(page.get("Changes", []))
                token = page.get("NextToken")
            if not changes:
                return ChangeSet(id=change_set_id, state=ChangeSetState.EMPTY)
            return ChangeSet(
                id=change_set_id, state=ChangeSetState.READY, changes=[dict(c) for c in changes]
            )
        poller.sleep(next(delays))


def execute_change_set(cfn: CloudFormationClient, stack_name: str, change_set_id: str) -> None:
    """Start executing; raises StackBusyError if another operation got there first."""
    try:
        cfn.execute_change_set(StackName=stack_name, ChangeSetName=change_set_id)
    except ClientError as err:
        status = busy_status(error_message(err))
        if status:
            raise StackBusyError(status) from err
        raise aws_failure(f"{stack_name}: ExecuteChangeSet failed", err) from err


def delete_change_set(cfn: CloudFormationClient, stack_name: str, change_set_id: str) -> None:
    """Delete a change set we created; one that is already gone is fine."""
    if not change_set_id:
        return
    try:
        cfn.delete_change_set(StackName=stack_name, ChangeSetName=change_set_id)
    except ClientError as err:
        if error_code(err) == "ChangeSetNotFound":
            return
        raise aws_failure("DeleteChangeSet failed", err) from err
