"""Queues and topics, built from typed specs: what they render and what `uses` grants."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, imp, plans

ORDERS = {
    "queues": {"jobs": {"visibility_timeout": 60, "dead_letter": {"max_receive_count": 3}}},
    "topics": {"events": {"subscriptions": [{"queue": "jobs", "filter_policy": {"t": ["a"]}}]}},
}


def test_queue_has_an_encrypted_dead_letter_queue_and_admits_its_topics_only() -> None:
    res = build(blueprint(**ORDERS), "queue-jobs")["Resources"]
    queue, dlq = res["Queue"]["Properties"], res["DeadLetterQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        "maxReceiveCount": 3,
    }
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    assert dlq["RedriveAllowPolicy"]["redrivePermission"] == "byQueue"
    statements = res["QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0]["Sid"] == "DenyInsecureTransport"
    allow = statements[1]
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(
        ":${EnvironmentName}-events"
    )
    assert res["Queue"]["DeletionPolicy"] == "Delete"


def test_topic_subscribes_the_queue_it_depends_on() -> None:
    bp = blueprint(**ORDERS)
    assert plans(bp)["topic-events"].depends_on == ("queue-jobs",)
    res = build(bp, "topic-events")["Resources"]
    sub = res["QueueJobsSubscription"]["Properties"]
    assert sub["Protocol"] == "sqs"
    assert sub["Endpoint"] == imp("queue-jobs", "QueueArn")
    assert sub["FilterPolicy"] == {"t": ["a"]}
    assert res["Topic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


def test_uses_grant_least_privilege_on_the_used_arn_and_put_its_address_in_env() -> None:
    bp = blueprint(
        **ORDERS,
        services={
            "worker": {
                "image": {"uri": "nginx"},
                "uses": [{"component": "jobs", "access": "consume", "env": "JOBS_URL"}],
            },
            "api": {
                "image": {"uri": "nginx"},
                "uses": [{"component": "events", "access": "publish"}],
            },
        },
    )
    worker = build(bp, "service-worker")["Resources"]
    statements = worker["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements == [
        {
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
            ],
            "Effect": "Allow",
            "Resource": [imp("queue-jobs", "QueueArn")],
        }
    ]
    container = worker["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Environment"] == [
        {"Name": "JOBS_URL", "Value": imp("queue-jobs", "QueueUrl")}
    ]
    assert "queue-jobs" in plans(bp)["service-worker"].depends_on
    api = build(bp, "service-api")["Resources"]
    assert api["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["sns:Publish"],
            "Effect": "Allow",
            "Resource": [imp("topic-events", "TopicArn")],
        }
    ]


def test_a_customer_managed_key_adds_exactly_the_kms_actions_the_access_needs() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234"
    bp = blueprint(
        queues={"jobs": {"kms_key_arn": key}},
        services={
            "w": {"image": {"uri": "nginx"}, "uses": [{"component": "jobs", "access": "send"}]}
        },
    )
    res = build(bp, "service-w")["Resources"]
    statements = res["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements[1] == {
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Effect": "Allow",
        "Resource": [key],
    }
    assert build(bp, "queue-jobs")["Resources"]["Queue"]["Properties"]["KmsMasterKeyId"] == key


def test_uses_errors_name_the_field_and_the_fix(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        queues: {jobs: {}}
        buckets: {files: {}}
        services:
          api:
            image: {uri: nginx}
            uses:
              - {component: jobs, access: sned}
              - {component: jobs, access: send, prefix: x/}
              - {component: nothing, access: read}
              - {component: api, access: read}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:9:35: services.api.uses[0].access: 'jobs' has no access 'sned' "
        "(did you mean 'send'?)",
        "bp.yaml:10:49: services.api.uses[1].prefix: `prefix` does not apply to queue 'jobs' "
        "(remove `prefix`)",
        "bp.yaml:11:21: services.api.uses[2].component: unknown usable component 'nothing' "
        "(known usable components: files, jobs)",
        "bp.yaml:12:21: services.api.uses[3].component: 'api' cannot be used "
        "(name a queue, topic, bucket or file system)",
    ]


def test_old_buckets_key_gets_a_migration_error(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        buckets: {files: {}}
        services:
          api:
            image: {uri: nginx}
            buckets: [{bucket: files, access: read}]
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:14: services.api.buckets: `buckets` is now part of `uses` (write `uses: "
        "[{component: results, access: read-write, prefix: results/}]` (one entry per bucket; "
        "access read or read-write))"
    ]


def test_fifo_topics_deliver_to_fifo_queues_only(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        queues: {jobs: {}}
        topics: {events: {fifo: true, subscriptions: [{queue: jobs}]}}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:55: topics.events.subscriptions[0].queue: a FIFO topic delivers to FIFO "
        "queues only; 'jobs' is standard (make both FIFO or both standard)"
    ]
