"""The queue and topic kinds, deployed for real: examples/orders.yaml on MiniStack.

A topic subscribed by a queue, a service that publishes and a worker that consumes. After the
deploy, a message published to the topic arrives in the queue (the topic's subscription and the
queue's policy are wired), and a message the consumers keep failing on moves to the dead-letter
queue. What MiniStack cannot create is left out by the one measured list (emulator_gaps).
"""

from __future__ import annotations

import json

import boto3
import pytest

from cfngen.compiler import compile_environment
from cfngen.deploy.aws import Clients
from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
from cfngen.deploy.emulator import REPO
from cfngen.deploy.emulator_gaps import emulator_environment
from cfngen.deploy.poll import PollPolicy

pytestmark = pytest.mark.xdist_group("ministack")

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.5, timeout=120)


def _outputs(clients: Clients, stack: str) -> dict[str, str]:
    found = clients.cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def test_orders_deploys_and_a_published_message_reaches_the_queue(
    emulator: str, clients: Clients
) -> None:
    rendered = compile_environment(REPO / "examples" / "orders.yaml", "dev")
    env, excluded = emulator_environment(rendered)
    print("left out on the emulator:", *(f"{e.stack}: {e.why}" for e in excluded), sep="\n  ")
    summary = Deployment(env, clients, DeployOptions(poll=FAST)).deploy()
    assert summary.ok, summary.render()
    created = {r.name for r in summary.results if r.outcome is Outcome.CREATED}
    assert {"orders-dev-queue-fulfilment", "orders-dev-topic-order-events"} <= created

    queue = _outputs(clients, "orders-dev-queue-fulfilment")
    topic = _outputs(clients, "orders-dev-topic-order-events")
    sqs = boto3.client("sqs", endpoint_url=emulator, region_name="eu-west-1")
    sns = boto3.client("sns", endpoint_url=emulator, region_name="eu-west-1")

    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=["Policy"])[
            "Attributes"
        ]["Policy"]
    )
    admitted = [
        s["Condition"]["ArnEquals"]["aws:SourceArn"]
        for s in policy["Statement"]
        if s.get("Effect") == "Allow"
    ]
    assert admitted == [topic["TopicArn"]]

    subs = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("sqs", queue["QueueArn"])]

    sns.publish(
        TopicArn=topic["TopicArn"],
        Message='{"order": 42}',
        MessageAttributes={"type": {"DataType": "String", "StringValue": "created"}},
    )
    got = sqs.receive_message(QueueUrl=queue["QueueUrl"], WaitTimeSeconds=2)
    assert [m["Body"] for m in got.get("Messages", [])] == ['{"order": 42}']  # raw delivery

    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]["RedrivePolicy"]
    )
    assert redrive["deadLetterTargetArn"] == queue["DeadLetterQueueArn"]
    assert int(redrive["maxReceiveCount"]) == 3
