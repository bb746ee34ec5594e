"""The queue kind: SQS queues, one stack `queue-<name>` each.

Every queue is encrypted (SSE-SQS, or SSE-KMS with `kms_key_arn`), refuses requests without TLS,
and has a dead-letter queue that receives a message after `max_receive_count` failed receives
(the dead-letter queue admits only its own source queue). With `alerts`, an alarm fires when a
message reaches the dead-letter queue. Topics subscribe a queue (`topics.<t>.subscriptions`):
the queue's policy then lets exactly those topics send to it.

Services, tasks and hosts use a queue through `uses`: `send` (sqs:SendMessage) or `consume`
(receive, delete, change visibility, read attributes), each on this queue's ARN only; with a
customer-managed key also the KMS actions the access needs on that key. `env: NAME` puts the
queue URL into the user's environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from awacs.aws import Action, Allow, ArnEquals, Condition, PolicyDocument, Principal, Statement
from msgspec import Struct
from pydantic import Field, model_validator
from troposphere import GetAtt, Ref, Sub, sqs

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Waiver, fail
from cfngen.blueprint.models.data import KmsKeyArn
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.builders.hardened import deny_insecure_transport
from cfngen.kinds import alerts
from cfngen.kinds.base import (
    Attribute,
    Facts,
    Grant,
    GrantFn,
    GrantRequest,
    GrantResource,
    GrantStatement,
    Kind,
    MetricSource,
    only_options,
)
from cfngen.stacks import Output

QUEUE_URL = "QueueUrl"
QUEUE_ARN = "QueueArn"
QUEUE_NAME = "QueueName"
DLQ_URL = "DeadLetterQueueUrl"
DLQ_ARN = "DeadLetterQueueArn"
SUBSCRIPTION = "subscription"
"""A Link kind: a topic subscribes the queue (detail: the topic's name suffix)."""


class DeadLetter(Model):
    """Where messages go that consumers keep failing on."""

    max_receive_count: int = Field(
        5, ge=1, le=1000, description="Receives before a message moves to the dead-letter queue."
    )
    retention_days: int = Field(
        14, ge=1, le=14, description="How long the dead-letter queue keeps a message."
    )


class QueueAlarms(Model):
    """CloudWatch alarms of the queue (sent to `alerts`)."""

    dead_letter_messages: bool = Field(
        True, description="Alarm when a message is in the dead-letter queue."
    )
    oldest_message_seconds: int | None = Field(
        None,
        ge=60,
        description="Alarm when the oldest message waits longer than this (null: no alarm).",
    )


class Queue(Model):
    """An SQS queue with its dead-letter queue."""

    fifo: bool = Field(False, description="First-in-first-out, exactly-once processing.")
    content_based_deduplication: bool = Field(
        False, description="FIFO only: deduplicate by a hash of the body."
    )
    visibility_timeout: int = Field(
        30,
        ge=0,
        le=43200,
        description="Seconds a received message stays hidden from other consumers (set above "
        "the longest processing time).",
    )
    retention_days: int = Field(4, ge=1, le=14, description="How long a message is kept.")
    delay_seconds: int = Field(0, ge=0, le=900, description="Delay before a message is visible.")
    receive_wait_seconds: int = Field(
        20, ge=0, le=20, description="Long polling: how long a receive waits for a message."
    )
    max_message_kb: int = Field(256, ge=1, le=256, description="Largest message in KiB.")
    dead_letter: DeadLetter = Field(
        default_factory=DeadLetter, description="The dead-letter queue."
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Customer-managed KMS key (default: SQS-managed encryption)."
    )
    alarms: QueueAlarms = Field(default_factory=QueueAlarms, description="Alarms (need alerts).")
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.content_based_deduplication and not self.fifo:
            raise fail("content_based_deduplication applies to FIFO queues only", "set fifo: true")
        return self

    def physical_name(self, name: str, suffix: str = "") -> str:
        """The queue name after `${EnvironmentName}-` (SQS wants `.fifo` at the end)."""
        return f"{name}{suffix}" + (".fifo" if self.fifo else "")


def queue_key(name: str) -> str:
    return QUEUES.key(name)


class QueueSpec(Struct, frozen=True):
    name: str
    queue: Queue
    topics: tuple[str, ...]  # name suffixes of the topics that subscribe it


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans = []
    for name, queue in QUEUES.entries(bp).items():
        topics = tuple(
            str(link.detail)
            for link in facts.links
            if link.kind == SUBSCRIPTION and link.target == name and link.detail
        )
        alarms = alerts.dependency(bp) if _has_alarms(queue) else ()
        plans.append(
            StackPlan(
                component=queue_key(name),
                title=f"SQS queue {name}",
                build=build,
                spec=QueueSpec(name, queue, tuple(dict.fromkeys(topics))),
                depends_on=alarms,
                source=("queues", name),
            )
        )
    return plans


def _has_alarms(queue: Queue) -> bool:
    return queue.alarms.dead_letter_messages or queue.alarms.oldest_message_seconds is not None


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/SQS metrics of each queue, selected by its name."""
    return {
        name: MetricSource(
            "AWS/SQS",
            {"QueueName": f"${{EnvironmentName}}-{queue.physical_name(name)}"},
            ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"),
        )
        for name, queue in QUEUES.entries(bp).items()
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out = {}
    for name in QUEUES.entries(bp):
        key = queue_key(name)
        out[name] = {
            "url": Attribute(Output(key, QUEUE_URL), "value", "Queue URL (what SDKs send to)"),
            "arn": Attribute(Output(key, QUEUE_ARN), "value", "Queue ARN"),
            "name": Attribute(Output(key, QUEUE_NAME), "value", "Queue name"),
            "dead_letter_url": Attribute(Output(key, DLQ_URL), "value", "Dead-letter queue URL"),
            "dead_letter_arn": Attribute(Output(key, DLQ_ARN), "value", "Dead-letter queue ARN"),
        }
    return out


def _grant(actions: tuple[str, ...], kms: tuple[str, ...]) -> GrantFn:
    def grant(bp: Blueprint, request: GrantRequest) -> Grant:
        only_options(request, "queue")
        queue = QUEUES.entries(bp)[request.component]
        key = queue_key(request.component)
        statements = [GrantStatement(actions, (GrantResource(Output(key, QUEUE_ARN)),))]
        if queue.kms_key_arn:
            statements.append(GrantStatement(kms, (GrantResource(literal=queue.kms_key_arn),)))
        return Grant(statements=tuple(statements), address=Output(key, QUEUE_URL))

    return grant


GRANTS = {
    "send": _grant(("sqs:SendMessage",), ("kms:GenerateDataKey", "kms:Decrypt")),
    "consume": _grant(
        (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
        ),
        ("kms:Decrypt",),
    ),
}


def _encryption(queue: Queue) -> dict[str, Any]:
    if queue.kms_key_arn:
        return {"KmsMasterKeyId": queue.kms_key_arn, "KmsDataKeyReusePeriodSeconds": 300}
    return {"SqsManagedSseEnabled": True}


SSE_SQS = (
    "encrypted at rest with SQS-managed keys (SSE-SQS), which topics can deliver to; the "
    "AWS-managed KMS key alias/aws/sqs would refuse SNS. Set kms_key_arn for a customer-managed "
    "key"
)


def _arn(queue: Queue, name: str, suffix: str = "") -> Sub:
    """A queue's ARN written out, so the two queues can name each other without a cycle."""
    return Sub(
        "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${EnvironmentName}-"
        + queue.physical_name(name, suffix)
    )


def build(spec: QueueSpec, ctx: Context) -> None:
    name, queue = spec.name, spec.queue
    fifo: dict[str, Any] = {"FifoQueue": True} if queue.fifo else {}
    waivers = {} if queue.kms_key_arn else {"CKV_AWS_27": SSE_SQS}
    dlq = ctx.add(
        waive(
            sqs.Queue(
                "DeadLetterQueue",
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
                QueueName=ctx.name(queue.physical_name(name, "-dlq")),
                MessageRetentionPeriod=queue.dead_letter.retention_days * 86400,
                RedriveAllowPolicy={
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [_arn(queue, name)],
                },
                Tags=ctx.name_tag(f"{name}-dlq"),
                **fifo,
                **_encryption(queue),
            ),
            waivers,
        )
    )
    if queue.content_based_deduplication:
        fifo["ContentBasedDeduplication"] = True
    main = ctx.add(
        waive(
            sqs.Queue(
                "Queue",
                DeletionPolicy="Delete",
                UpdateReplacePolicy="Delete",
                QueueName=ctx.name(queue.physical_name(name)),
                VisibilityTimeout=queue.visibility_timeout,
                MessageRetentionPeriod=queue.retention_days * 86400,
                DelaySeconds=queue.delay_seconds,
                ReceiveMessageWaitTimeSeconds=queue.receive_wait_seconds,
                MaximumMessageSize=queue.max_message_kb * 1024,
                RedrivePolicy=sqs.RedrivePolicy(
                    deadLetterTargetArn=GetAtt(dlq, "Arn"),
                    maxReceiveCount=queue.dead_letter.max_receive_count,
                ),
                Tags=ctx.name_tag(name),
                **fifo,
                **_encryption(queue),
            ),
            waivers,
        )
    )
    statements = [deny_insecure_transport("sqs", [GetAtt(main, "Arn"), GetAtt(dlq, "Arn")])]
    for topic in spec.topics:
        statements.append(
            Statement(
                Sid=f"Topic{''.join(p.capitalize() for p in topic.replace('.', '-').split('-'))}",
                Effect=Allow,
                Principal=Principal("Service", "sns.amazonaws.com"),
                Action=[Action("sqs", "SendMessage")],
                Resource=[GetAtt(main, "Arn")],
                Condition=Condition(
                    ArnEquals(
                        "aws:SourceArn",
                        Sub(
                            "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
                            f"${{EnvironmentName}}-{topic}"
                        ),
                    )
                ),
            )
        )
    ctx.add(
        sqs.QueuePolicy(
            "QueuePolicy",
            Queues=[Ref(main), Ref(dlq)],
            PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
        )
    )
    _alarms(name, queue, main, dlq, ctx)
    ctx.export(QUEUE_URL, Ref(main), f"Queue {name}: URL")
    ctx.export(QUEUE_ARN, GetAtt(main, "Arn"), f"Queue {name}: ARN")
    ctx.export(QUEUE_NAME, GetAtt(main, "QueueName"), f"Queue {name}: name")
    ctx.export(DLQ_URL, Ref(dlq), f"Queue {name}: dead-letter queue URL")
    ctx.export(DLQ_ARN, GetAtt(dlq, "Arn"), f"Queue {name}: dead-letter queue ARN")


def _alarms(name: str, queue: Queue, main: Any, dlq: Any, ctx: Context) -> None:
    if not alerts.dependency(ctx.blueprint):
        return
    if queue.alarms.dead_letter_messages:
        alerts.add_alarm(
            ctx,
            "DeadLetterAlarm",
            description=f"Queue {name}: messages in the dead-letter queue (consumers failed "
            f"{queue.dead_letter.max_receive_count} times on them)",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": GetAtt(dlq, "QueueName")},
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            missing_data="notBreaching",
        )
    if queue.alarms.oldest_message_seconds is not None:
        alerts.add_alarm(
            ctx,
            "OldestMessageAlarm",
            description=f"Queue {name}: a message waits longer than "
            f"{queue.alarms.oldest_message_seconds} s (consumers too slow or stopped)",
            namespace="AWS/SQS",
            metric="ApproximateAgeOfOldestMessage",
            dimensions={"QueueName": GetAtt(main, "QueueName")},
            threshold=queue.alarms.oldest_message_seconds,
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            missing_data="notBreaching",
        )


QUEUES: Kind[Queue] = Kind(
    section="queues",
    model=Queue,
    description="SQS queues with dead-letter queues, one stack each.",
    prefix="queue",
    plan=plan,
    metrics=metrics,
    attributes=attributes,
    grants=GRANTS,
    order=53,
)
KIND = QUEUES
