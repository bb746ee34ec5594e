"""The topic kind: SNS topics, one stack `topic-<name>` each, with their subscriptions.

A topic is encrypted (the AWS-managed key `alias/aws/sns`, or `kms_key_arn`) and refuses publish
requests without TLS. Subscriptions deliver to a queue of the blueprint (whose policy then admits
exactly this topic: the queue kind reads the subscription as a link), to an e-mail address (the
recipient confirms) or to an HTTPS endpoint, each with an optional filter policy.

Services, tasks and hosts publish through `uses: [{component: orders, access: publish}]`:
sns:Publish on this topic's ARN only (and the KMS actions on a customer-managed key); `env: NAME`
puts the topic ARN into the user's environment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, Self

from awacs.aws import PolicyDocument
from msgspec import Struct
from pydantic import Field, model_validator
from troposphere import Ref, sns

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Name, Waiver, fail
from cfngen.blueprint.models.data import KmsKeyArn
from cfngen.blueprint.models.operations import Email
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.hardened import deny_insecure_transport
from cfngen.kinds.base import (
    Attribute,
    Facts,
    Grant,
    GrantFn,
    GrantRequest,
    GrantResource,
    GrantStatement,
    Kind,
    Link,
    MetricSource,
    only_options,
)
from cfngen.stacks import Output, logical_id

TOPIC_ARN = "TopicArn"
TOPIC_NAME = "TopicName"
AWS_MANAGED_KEY = "alias/aws/sns"
_HTTPS = re.compile(r"^https://[^\s/$.?#].[^\s]*$")


class Subscription(Model):
    """Where the topic delivers: exactly one of `queue`, `email` or `https`."""

    queue: Name | None = Field(None, description="A queue of this blueprint (`queues`).")
    email: Email | None = Field(None, description="An e-mail address (it must confirm).")
    https: str | None = Field(None, description="An HTTPS endpoint (it must confirm).")
    filter_policy: dict[str, Any] | None = Field(
        None, description="Deliver only matching messages (an SNS filter policy)."
    )
    filter_on: Literal["attributes", "body"] = Field(
        "attributes", description="Match the filter policy on message attributes or the body."
    )
    raw_message_delivery: bool = Field(
        False, description="Deliver the message body as is, without SNS's JSON envelope."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        given = [x for x in (self.queue, self.email, self.https) if x is not None]
        if len(given) != 1:
            raise fail(
                "a subscription needs exactly one of `queue`, `email` or `https`",
                "e.g. {queue: jobs} or {email: ops@example.com}",
            )
        if self.https is not None and not _HTTPS.match(self.https):
            raise fail(f"'{self.https}' is not an https:// URL", "e.g. https://hooks.example.com/x")
        if self.raw_message_delivery and self.email is not None:
            raise fail("e-mail subscriptions cannot take raw_message_delivery", "remove it")
        return self

    @property
    def protocol(self) -> str:
        return "sqs" if self.queue else "email" if self.email else "https"


class Topic(Model):
    """An SNS topic and its subscriptions."""

    fifo: bool = Field(False, description="FIFO topic (its queue subscribers must be FIFO).")
    content_based_deduplication: bool = Field(
        False, description="FIFO only: deduplicate by a hash of the body."
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None, description=f"Customer-managed KMS key (default: {AWS_MANAGED_KEY})."
    )
    subscriptions: list[Subscription] = Field(
        default_factory=list, description="Queues, e-mail addresses and HTTPS endpoints."
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.content_based_deduplication and not self.fifo:
            raise fail("content_based_deduplication applies to FIFO topics only", "set fifo: true")
        return self

    def physical_name(self, name: str) -> str:
        return name + (".fifo" if self.fifo else "")


def topic_key(name: str) -> str:
    return TOPICS.key(name)


class TopicSpec(Struct, frozen=True):
    name: str
    topic: Topic


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans = []
    for name, topic in TOPICS.entries(bp).items():
        deps: dict[str, Path_] = {}
        for i, sub in enumerate(topic.subscriptions):
            if sub.queue is not None and sub.queue in bp.queues:
                from cfngen.kinds.queue import queue_key  # the blueprint has the queue

                deps.setdefault(queue_key(sub.queue), ("topics", name, "subscriptions", i, "queue"))
        plans.append(
            StackPlan(
                component=topic_key(name),
                title=f"SNS topic {name}",
                build=build,
                spec=TopicSpec(name, topic),
                depends_on=tuple(deps),
                source=("topics", name),
                dependency_sources=deps,
            )
        )
    return plans


def links(bp: Blueprint) -> list[Link]:
    """Each queue subscription: the queue's policy must admit this topic."""
    if not any(sub.queue for topic in bp.topics.values() for sub in topic.subscriptions):
        return []
    from cfngen.kinds.queue import SUBSCRIPTION  # subscribes a queue: the kind is used

    return [
        Link(
            name,
            sub.queue,
            SUBSCRIPTION,
            ("topics", name, "subscriptions", i, "queue"),
            topic.physical_name(name),
        )
        for name, topic in TOPICS.entries(bp).items()
        for i, sub in enumerate(topic.subscriptions)
        if sub.queue is not None
    ]


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/SNS metrics of each topic, selected by its name."""
    return {
        name: MetricSource(
            "AWS/SNS",
            {"TopicName": Output(topic_key(name), TOPIC_NAME)},
            ("NumberOfNotificationsFailed", "NumberOfMessagesPublished"),
        )
        for name in TOPICS.entries(bp)
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    return {
        name: {
            "arn": Attribute(Output(topic_key(name), TOPIC_ARN), "value", "Topic ARN"),
            "name": Attribute(Output(topic_key(name), TOPIC_NAME), "value", "Topic name"),
        }
        for name in TOPICS.entries(bp)
    }


def _publish() -> GrantFn:
    def grant(bp: Blueprint, request: GrantRequest) -> Grant:
        only_options(request, "topic")
        topic = TOPICS.entries(bp)[request.component]
        arn = Output(topic_key(request.component), TOPIC_ARN)
        statements = [GrantStatement(("sns:Publish",), (GrantResource(arn),))]
        if topic.kms_key_arn:
            statements.append(
                GrantStatement(
                    ("kms:GenerateDataKey", "kms:Decrypt"),
                    (GrantResource(literal=topic.kms_key_arn),),
                )
            )
        return Grant(statements=tuple(statements), address=arn)

    return grant


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    queues = bp.queues
    for name, topic in TOPICS.entries(bp).items():
        for i, sub in enumerate(topic.subscriptions):
            if sub.queue is None:
                continue
            path: Path_ = ("topics", name, "subscriptions", i, "queue")
            queue = queues.get(sub.queue)
            if queue is None:
                c.reference(path, sub.queue, queues, "queue")
            elif queue.fifo != topic.fifo:
                c.error(
                    path,
                    f"a {'FIFO' if topic.fifo else 'standard'} topic delivers to "
                    f"{'FIFO' if topic.fifo else 'standard'} queues only; '{sub.queue}' is "
                    f"{'FIFO' if queue.fifo else 'standard'}",
                    "make both FIFO or both standard",
                )


def build(spec: TopicSpec, ctx: Context) -> None:
    name, topic = spec.name, spec.topic
    props: dict[str, Any] = {
        "TopicName": ctx.name(topic.physical_name(name)),
        "KmsMasterKeyId": topic.kms_key_arn or AWS_MANAGED_KEY,
        "Tags": ctx.name_tag(name),
    }
    if topic.fifo:
        props["FifoTopic"] = True
    if topic.content_based_deduplication:
        props["ContentBasedDeduplication"] = True
    res = ctx.add(sns.Topic("Topic", **props))
    ctx.add(
        sns.TopicPolicy(
            "TopicPolicy",
            Topics=[Ref(res)],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[deny_insecure_transport("sns", [Ref(res)])],
            ),
        )
    )
    for i, sub in enumerate(topic.subscriptions, 1):
        endpoint: Any
        if sub.queue is not None:
            from cfngen.kinds.queue import QUEUE_ARN, queue_key

            endpoint = ctx.import_value(queue_key(sub.queue), QUEUE_ARN)
            title = logical_id("queue", sub.queue, "subscription")
        else:
            endpoint = sub.email or sub.https
            title = f"Subscription{i}"
        sprops: dict[str, Any] = {
            "TopicArn": Ref(res),
            "Protocol": sub.protocol,
            "Endpoint": endpoint,
        }
        if sub.filter_policy is not None:
            sprops["FilterPolicy"] = sub.filter_policy
            sprops["FilterPolicyScope"] = (
                "MessageBody" if sub.filter_on == "body" else "MessageAttributes"
            )
        if sub.raw_message_delivery:
            sprops["RawMessageDelivery"] = True
        ctx.add(sns.SubscriptionResource(title, **sprops))
    ctx.export(TOPIC_ARN, Ref(res), f"Topic {name}: ARN")
    ctx.export(TOPIC_NAME, res.get_att("TopicName"), f"Topic {name}: name")


TOPICS: Kind[Topic] = Kind(
    section="topics",
    model=Topic,
    description="SNS topics with their subscriptions, one stack each.",
    prefix="topic",
    plan=plan,
    metrics=metrics,
    attributes=attributes,
    links=links,
    grants={"publish": _publish()},
    checks=(check,),
    order=54,
)
KIND = TOPICS
