"""Stack events: stream what CloudFormation does, and wait for an operation to end.

Waiting polls DescribeStackEvents rather than DescribeStacks: one call yields both the progress
to show and the stack's own terminal event, so each poll costs one API call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from cfngen.deploy.aws import aws_failure, is_missing_stack
from cfngen.deploy.poll import Poller

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

    from cfngen.deploy.state import StackState

_MAX_PAGES = 5  # a burst of more than ~500 events between two polls only happens on huge stacks
_SAFETY_DESCRIBE_EVERY = 8  # polls without a terminal event before asking DescribeStacks anyway


class EventStream:
    """New events of one stack since `prime()`, oldest first."""

    def __init__(self, cfn: CloudFormationClient, stack_id: str) -> None:
        self._cfn = cfn
        self._stack_id = stack_id
        self._seen: set[str] = set()

    def prime(self) -> None:
        """Mark every event that exists now as already seen (call before starting an operation)."""
        for event in self._first_page():
            self._seen.add(event["EventId"])

    def _first_page(self) -> list[dict[str, Any]]:
        try:
            return [
                dict(e)
                for e in self._cfn.describe_stack_events(StackName=self._stack_id)["StackEvents"]
            ]
        except ClientError as err:
            if is_missing_stack(err):
                return []
            raise aws_failure("DescribeStackEvents failed", err) from err

    def poll(self) -> list[dict[str, Any]]:
        """Events not returned before, oldest first."""
        fresh: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(_MAX_PAGES):
            try:
                kwargs: dict[str, Any] = {"StackName": self._stack_id}
                if token:
                    kwargs["NextToken"] = token
                page: Any = self._cfn.describe_stack_events(**kwargs)
            except ClientError as err:
                if is_missing_stack(err):
                    break
                raise aws_failure("DescribeStackEvents failed", err) from err
            reached_seen = False
            for event in page["StackEvents"]:
                if event["EventId"] in self._seen:
                    reached_seen = True
                    break
                fresh.append(dict(event))
            token = page.get("NextToken")
            if reached_seen or not token:
                break
        for event in fresh:
            self._seen.add(event["EventId"])
        fresh.reverse()
        return fresh


def is_stack_event(event: dict[str, Any], stack_name: str) -> bool:
    return bool(
        event.get("ResourceType") == "AWS::CloudFormation::Stack"
        and event.get("LogicalResourceId") == stack_name
    )


def is_terminal(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS")


def failure_reasons(events: list[dict[str, Any]]) -> list[str]:
    """The first reasons CloudFormation gave for failed resources, in the order they happened."""
    reasons: list[str] = []
    for event in events:
        status = str(event.get("ResourceStatus", ""))
        reason = str(event.get("ResourceStatusReason", "") or "")
        if status.endswith("_FAILED") and reason and "cancelled" not in reason.lower():
            line = f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}): {reason}"
            if line not in reasons:
                reasons.append(line)
    return reasons


def wait_for_operation(
    cfn: CloudFormationClient,
    stack_id: str,
    stack_name: str,
    stream: EventStream,
    poller: Poller,
    on_event: Callable[[dict[str, Any]], None],
) -> StackState | None:
    """Wait until the stack's current operation ends; returns the final state (None if gone)."""
    from cfngen.deploy.state import StackState  # state imports this module

    delays = poller.policy.delays()
    quiet_polls = 0
    waited = 0.0
    while True:
        delay = next(delays)
        poller.sleep(delay)
        waited += delay
        ended = False
        for event in stream.poll():
            on_event(event)
            if is_stack_event(event, stack_name) and is_terminal(str(event["ResourceStatus"])):
                ended = True
        quiet_polls = 0 if ended else quiet_polls + 1
        if ended or quiet_polls >= _SAFETY_DESCRIBE_EVERY:
            quiet_polls = 0
            try:
                stacks = cfn.describe_stacks(StackName=stack_id)["Stacks"]
            except ClientError as err:
                if is_missing_stack(err):
                    return None
                raise aws_failure(f"{stack_name}: DescribeStacks failed", err) from err
            state = StackState.from_api(stacks[0])
            if not state.status.endswith("_IN_PROGRESS") or state.status == "REVIEW_IN_PROGRESS":
                return state
        if waited > poller.policy.timeout:
            raise_timeout(stack_name)


def raise_timeout(stack_name: str) -> None:
    from cfngen.errors import OperationError

    raise OperationError(
        f"{stack_name}: gave up waiting; the operation still runs in CloudFormation. "
        "Run the same command again to keep waiting."
    )
