"""What a stack looks like in AWS now, who owns it, and getting it into a state we can change.

"Settling" a stack before deploying is what makes a re-run continue where an interrupted or
failed one stopped: a stack still in progress is waited for, an empty leftover of a failed
creation is removed, and a stuck rollback is explained (or continued, when asked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cfngen.deploy.aws import aws_failure, is_missing_stack
from cfngen.deploy.events import EventStream, wait_for_operation
from cfngen.deploy.poll import Poller
from cfngen.errors import OperationError
from cfngen.render import RenderedEnvironment
from cfngen.stacks import owner_tags as _owner_tags

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

#: Statuses left behind by a failed creation: the stack holds nothing and must be deleted
#: before a stack of that name can be created again.
RECREATE_STATUSES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "REVIEW_IN_PROGRESS"})


@dataclass(frozen=True)
class StackState:
    """One DescribeStacks entry, reduced to what deploy decisions need."""

    name: str
    stack_id: str
    status: str
    reason: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    outputs: tuple[dict[str, str], ...] = ()
    termination_protection: bool = False

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"

    @property
    def exports(self) -> dict[str, str]:
        """Export name -> output key."""
        return {o["ExportName"]: o["OutputKey"] for o in self.outputs if o.get("ExportName")}

    @classmethod
    def from_api(cls, data: Any) -> StackState:
        return cls(
            name=data["StackName"],
            stack_id=data["StackId"],
            status=data["StackStatus"],
            reason=data.get("StackStatusReason", "") or "",
            parameters={
                p["ParameterKey"]: p.get("ParameterValue", "") for p in data.get("Parameters", [])
            },
            tags={t["Key"]: t["Value"] for t in data.get("Tags", [])},
            outputs=tuple(
                {k: str(v) for k, v in o.items() if isinstance(v, str)}
                for o in data.get("Outputs", [])
            ),
            termination_protection=bool(data.get("EnableTerminationProtection", False)),
        )


def owner_tags(env: RenderedEnvironment) -> dict[str, str]:
    """The tags cfngen puts on every stack of `env` (merged over the blueprint's own tags;
    their names are made in cfngen.stacks)."""
    return _owner_tags(env.blueprint, env.environment)


def is_owned(state: StackState, env: RenderedEnvironment) -> bool:
    """True when the stack carries cfngen's tags for exactly this blueprint and environment."""
    return all(state.tags.get(k) == v for k, v in owner_tags(env).items())


def describe_stack(cfn: CloudFormationClient, name: str) -> StackState | None:
    """The stack's state, or None when no stack of that name exists (DELETE_COMPLETE counts)."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if is_missing_stack(err):
            return None
        raise aws_failure(f"{name}: DescribeStacks failed", err) from err
    if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return StackState.from_api(stacks[0])


def continue_rollback_command(name: str) -> str:
    return f"aws cloudformation continue-update-rollback --stack-name {name}"


def settle(
    cfn: CloudFormationClient,
    name: str,
    env: RenderedEnvironment,
    poller: Poller,
    *,
    continue_rollback: bool = False,
    on_status: Callable[[str], None] = lambda _: None,
    on_event: Callable[[dict[str, Any]], None] = lambda _: None,
) -> StackState | None:
    """Bring the stack to a state a change set can be created on; None means "create it".

    Waits for operations in progress (ours from an interrupted run, or someone else's), deletes
    an owned stack that a failed creation left empty, and stops with the exact command for a
    stack stuck in UPDATE_ROLLBACK_FAILED unless `continue_rollback` is set.
    """
    status = "unknown"
    for _ in range(10):  # each pass changes the state; ten is far more than any real sequence
        state = describe_stack(cfn, name)
        if state is None:
            return None
        status = state.status
        if state.in_progress:
            on_status(f"waiting: {state.status} (another operation is running)")
            wait_for_operation(
                cfn, state.stack_id, name, EventStream(cfn, state.stack_id), poller, on_event
            )
            continue
        if state.status in RECREATE_STATUSES:
            if not is_owned(state, env):
                raise OperationError(
                    f"{name} is in {state.status} but does not carry cfngen's tags for "
                    f"{env.blueprint}/{env.environment}, so cfngen will not delete it. "
                    f"If it is safe to remove: aws cloudformation delete-stack --stack-name {name}"
                )
            on_status(f"deleting leftover {state.status} stack to recreate it")
            delete_stack(cfn, state, poller, on_event)
            continue
        if state.status == "UPDATE_ROLLBACK_FAILED":
            if not continue_rollback:
                raise OperationError(
                    f"{name} is in UPDATE_ROLLBACK_FAILED: an update failed and so did its "
                    f"rollback ({state.reason or 'see the stack events'}). Fix the cause, then "
                    f"continue the rollback with:\n  {continue_rollback_command(name)}\n"
                    "or run cfngen deploy again with --continue-rollback"
                )
            on_status("continuing the failed rollback")
            stream = EventStream(cfn, state.stack_id)
            stream.prime()
            try:
                cfn.continue_update_rollback(StackName=name)
            except ClientError as err:
                raise aws_failure(f"{name}: ContinueUpdateRollback failed", err) from err
            wait_for_operation(cfn, state.stack_id, name, stream, poller, on_event)
            continue
        if state.status == "DELETE_FAILED":
            raise OperationError(
                f"{name} is in DELETE_FAILED ({state.reason or 'see the stack events'}). "
                f"Remove what blocks the deletion, then run cfngen destroy again "
                f"(or: aws cloudformation delete-stack --stack-name {name})"
            )
        return state
    raise OperationError(f"{name}: the stack kept changing state ({status}); try again")


def delete_stack(
    cfn: CloudFormationClient,
    state: StackState,
    poller: Poller,
    on_event: Callable[[dict[str, Any]], None] = lambda _: None,
) -> StackState | None:
    """Delete a stack and wait; returns the final state if the deletion failed, else None."""
    stream = EventStream(cfn, state.stack_id)
    stream.prime()
    try:
        cfn.delete_stack(StackName=state.stack_id)
    except ClientError as err:
        raise aws_failure(f"{state.name}: DeleteStack failed", err) from err
    final = wait_for_operation(cfn, state.stack_id, state.name, stream, poller, on_event)
    if final is None or final.status == "DELETE_COMPLETE":
        return None
    return final
