"""Behaviour no emulator enforces, against botocore's Stubber with AWS's real error messages.

Each test queues the exact calls AWS would see, in order; Stubber fails the test on any call
that was not expected, so these tests also pin down how many API calls a path makes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cfngen.deploy.artifacts import (
    MAX_TEMPLATE_BODY,
    MAX_TEMPLATE_URL,
    ArtifactStore,
    default_bucket_name,
)
from cfngen.deploy.aws import Clients
from cfngen.deploy.changeset import busy_status, is_no_changes
from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
from cfngen.deploy.destroy import destroy_environment
from cfngen.deploy.poll import Poller, PollPolicy
from cfngen.deploy.safety import importers
from cfngen.deploy.state import settle
from cfngen.errors import OperationError, UsageError
from cfngen.render import RenderedEnvironment
from tests.deploy.sample import sample_environment

FAST = PollPolicy(initial=0.001, factor=1.0, maximum=0.001, timeout=5)
NAME = "sample-test-network"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{NAME}/0f1e2d3c"
CS_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:changeSet/cfngen-x/{NAME}"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OWNED = [
    {"Key": "project", "Value": "cfngen-tests"},
    {"Key": "cfngen:blueprint", "Value": "sample"},
    {"Key": "cfngen:environment", "Value": "test"},
]
EMPTY_REASON = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)


@pytest.fixture
def env() -> RenderedEnvironment:
    full = sample_environment()
    return replace(full, stacks=(full.stack("network"),))


@pytest.fixture
def stubbed() -> Iterator[tuple[Clients, Stubber, Stubber]]:
    kwargs: dict[str, Any] = {
        "region_name": "eu-west-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    cfn = boto3.client("cloudformation", **kwargs)
    s3 = boto3.client("s3", **kwargs)
    with Stubber(cfn) as cfn_stub, Stubber(s3) as s3_stub:
        yield Clients(cloudformation=cfn, s3=s3, region="eu-west-1"), cfn_stub, s3_stub
        cfn_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()


def stack(
    status: str,
    *,
    tags: list[dict[str, str]] | None = None,
    outputs: list[dict[str, str]] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": NAME,
                "StackId": STACK_ID,
                "StackStatus": status,
                "StackStatusReason": reason,
                "CreationTime": NOW,
                "Parameters": [
                    {"ParameterKey": "EnvironmentName", "ParameterValue": "sample-test"}
                ],
                "Tags": OWNED if tags is None else tags,
                "Outputs": outputs or [],
                "EnableTerminationProtection": False,
            }
        ]
    }


def event(status: str, logical: str = NAME, reason: str = "", n: int = 1) -> dict[str, Any]:
    return {
        "StackId": STACK_ID,
        "EventId": f"{logical}-{status}-{n}",
        "StackName": NAME,
        "LogicalResourceId": logical,
        "ResourceType": "AWS::CloudFormation::Stack" if logical == NAME else "AWS::SSM::Parameter",
        "Timestamp": NOW,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def events(*items: dict[str, Any]) -> dict[str, Any]:
    return {"StackEvents": list(reversed(items))}  # AWS returns newest first


def deployment(env: RenderedEnvironment, clients: Clients, **options: Any) -> Deployment:
    return Deployment(env, clients, DeployOptions(poll=FAST, **options))


# --- the fragile matches, on AWS's exact wording ------------------------------------------


def test_no_changes_and_busy_messages_are_recognised() -> None:
    assert is_no_changes(EMPTY_REASON)
    assert is_no_changes("No updates are to be performed.")
    assert not is_no_changes("Template format error: unsupported structure.")
    message = f"Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated."
    assert busy_status(message) == "UPDATE_IN_PROGRESS"
    assert busy_status("Stack [x] does not exist") is None


# --- empty change sets --------------------------------------------------------------------


def test_empty_change_set_is_deleted_and_counts_as_unchanged(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": NAME})
    # a template that differs only in a way CloudFormation ignores, so a change set is needed
    cfn.add_response("get_template", {"TemplateBody": env.stacks[0].body + "# old\nMetadata: {}\n"})
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    cfn.add_response(
        "describe_change_set",
        {"Status": "FAILED", "StatusReason": EMPTY_REASON, "Changes": []},
        {"StackName": NAME, "ChangeSetName": CS_ID, "IncludePropertyValues": True},
    )
    cfn.add_response("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS_ID})
    summary = deployment(env, clients).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.UNCHANGED]
    assert summary.exit_code == 0


def test_no_updates_error_at_create_change_set_is_success(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("get_template", {"TemplateBody": "Resources: {}\n"})
    cfn.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.")
    summary = deployment(env, clients).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.UNCHANGED]


def test_unchanged_stack_is_skipped_without_a_change_set(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    # same template, different formatting: compared as data, so no change set
    reformatted = env.stacks[0].body.replace("{Type: String}", "\n    Type: String")
    assert reformatted != env.stacks[0].body
    cfn.add_response(
        "get_template",
        {"TemplateBody": reformatted},
        {"StackName": NAME, "TemplateStage": "Original"},
    )
    summary = deployment(env, clients).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.UNCHANGED]


# --- settling: recreate, wait, explain ----------------------------------------------------


def test_rollback_complete_stack_is_deleted_then_recreated(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"), {"StackName": NAME})
    cfn.add_response("describe_stack_events", events(event("ROLLBACK_COMPLETE")))
    cfn.add_response("delete_stack", {}, {"StackName": STACK_ID})
    cfn.add_response(
        "describe_stack_events",
        events(event("ROLLBACK_COMPLETE"), event("DELETE_IN_PROGRESS"), event("DELETE_COMPLETE")),
    )
    cfn.add_response("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": STACK_ID})
    cfn.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist"
    )
    # recreated: a CREATE change set on a fresh stack, executed
    cfn.add_response(
        "create_change_set",
        {"Id": CS_ID, "StackId": STACK_ID},
        {
            "StackName": NAME,
            "ChangeSetName": ANY,
            "ChangeSetType": "CREATE",
            "TemplateBody": ANY,
            "Parameters": ANY,
            "Capabilities": [],
            "Tags": ANY,
            "Description": ANY,
        },
    )
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Topic",
                        "ResourceType": "AWS::SNS::Topic",
                    },
                }
            ],
        },
    )
    cfn.add_response("describe_stack_events", events(event("REVIEW_IN_PROGRESS", n=2)))
    cfn.add_response("execute_change_set", {})
    cfn.add_response(
        "describe_stack_events",
        events(
            event("REVIEW_IN_PROGRESS", n=2),
            event("CREATE_IN_PROGRESS", n=2),
            event("CREATE_COMPLETE", n=2),
        ),
    )
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": STACK_ID})
    summary = deployment(env, clients).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.CREATED], summary.render()


def test_leftover_stack_without_our_tags_is_not_deleted(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("ROLLBACK_COMPLETE", tags=[]))
    with pytest.raises(OperationError, match="will not delete it") as err:
        settle(clients.cloudformation, NAME, env, Poller(FAST))
    assert f"aws cloudformation delete-stack --stack-name {NAME}" in str(err.value)


def test_update_rollback_failed_is_explained_with_the_exact_command(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    summary = deployment(env, clients).deploy()
    result = summary.results[0]
    assert result.outcome is Outcome.FAILED and summary.exit_code == 1
    assert f"aws cloudformation continue-update-rollback --stack-name {NAME}" in result.message
    assert "--continue-rollback" in result.message


def test_continue_rollback_continues_then_settles(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    cfn.add_response("describe_stack_events", events(event("UPDATE_ROLLBACK_FAILED")))
    cfn.add_response("continue_update_rollback", {}, {"StackName": NAME})
    cfn.add_response(
        "describe_stack_events",
        events(
            event("UPDATE_ROLLBACK_FAILED"),
            event("UPDATE_ROLLBACK_IN_PROGRESS"),
            event("UPDATE_ROLLBACK_COMPLETE"),
        ),
    )
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
    state = settle(clients.cloudformation, NAME, env, Poller(FAST), continue_rollback=True)
    assert state is not None and state.status == "UPDATE_ROLLBACK_COMPLETE"


def test_concurrent_operation_is_waited_for_then_deployed(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("get_template", {"TemplateBody": "Resources: {}\n"})
    cfn.add_client_error(
        "create_change_set",
        "ValidationError",
        f"Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated.",
    )
    # someone else's update: wait for it (events), then try again
    cfn.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"))
    cfn.add_response("describe_stack_events", events(event("UPDATE_IN_PROGRESS")))
    cfn.add_response(
        "describe_stack_events", events(event("UPDATE_IN_PROGRESS"), event("UPDATE_COMPLETE"))
    )
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Topic",
                        "ResourceType": "AWS::SNS::Topic",
                    },
                }
            ],
        },
    )
    cfn.add_response("describe_stack_events", events(event("UPDATE_COMPLETE")))
    cfn.add_response("execute_change_set", {})
    cfn.add_response(
        "describe_stack_events",
        events(
            event("UPDATE_COMPLETE"),
            event("UPDATE_IN_PROGRESS", n=2),
            event("UPDATE_COMPLETE", n=2),
        ),
    )
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    summary = deployment(env, clients).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.UPDATED], summary.render()


# --- exports in use -----------------------------------------------------------------------

EXPORTED = [
    {
        "OutputKey": "TopicArn",
        "OutputValue": "arn:aws:sns:eu-west-1:123456789012:t",
        "ExportName": "sample-test-network-TopicArn",
    },
    {
        "OutputKey": "ParamName",
        "OutputValue": "/sample-test/network/name",
        "ExportName": "sample-test-network-ParamName",
    },
]


def test_removing_an_export_in_use_stops_before_execution(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    network = env.stacks[0]
    body = network.body.split("  ParamName:")[0].replace("network-v1", "network-v2")
    changed = replace(
        env, stacks=(replace(network, body=body, exports=("sample-test-network-TopicArn",)),)
    )
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs=EXPORTED))
    cfn.add_response("get_template", {"TemplateBody": network.body})
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "Param",
                        "ResourceType": "AWS::SSM::Parameter",
                        "Replacement": "False",
                        "Scope": ["Properties"],
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "Value",
                                    "RequiresRecreation": "Never",
                                }
                            }
                        ],
                    },
                }
            ],
        },
    )
    cfn.add_response(
        "list_imports",
        {"Imports": ["other-team-stack"]},
        {"ExportName": "sample-test-network-ParamName"},
    )
    cfn.add_response("delete_change_set", {})
    summary = deployment(changed, clients).deploy()
    result = summary.results[0]
    assert result.outcome is Outcome.FAILED
    assert "export sample-test-network-ParamName" in result.message
    assert "imported by other-team-stack" in result.message


def test_not_imported_export_answer_means_no_importers(
    stubbed: tuple[Clients, Stubber, Stubber],
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_client_error(
        "list_imports",
        "ValidationError",
        "Export 'sample-test-network-TopicArn' is not imported by any stack.",
    )
    assert importers(clients.cloudformation, "sample-test-network-TopicArn") == []


def test_destroy_reports_an_export_still_in_use(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", outputs=EXPORTED))
    cfn.add_response("describe_stack_events", events(event("CREATE_COMPLETE")))
    cfn.add_client_error(
        "delete_stack",
        "ValidationError",
        "Export sample-test-network-TopicArn cannot be deleted as it is in use by other-team-stack",
    )
    summary = destroy_environment(env, clients, poll=FAST)
    assert summary.exit_code == 1
    assert "in use by other-team-stack" in summary.results[0].message


def test_destroy_refuses_stacks_without_our_tags(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", tags=[]))
    summary = destroy_environment(env, clients, poll=FAST)
    assert summary.results[0].outcome == "failed"
    assert "deletes only its own stacks" in summary.results[0].message


# --- template size ------------------------------------------------------------------------


def padded(env: RenderedEnvironment, size: int) -> RenderedEnvironment:
    network = env.stacks[0]
    filler = size - len(network.body.encode()) - len("# \n")
    body = network.body + "#" + " " + "x" * filler + "\n"
    assert len(body.encode()) == size
    return replace(env, stacks=(replace(network, body=body),))


def test_template_of_exactly_51200_bytes_is_sent_inline(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, _, _ = stubbed  # no S3 call queued: any S3 call fails the test
    store = ArtifactStore(clients.s3, "eu-west-1", "bucket")
    argument = store.template_argument("sample-test", padded(env, MAX_TEMPLATE_BODY).stacks[0])
    assert list(argument) == ["TemplateBody"]


def test_larger_template_is_uploaded_to_a_hardened_bucket_created_on_demand(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, _, s3 = stubbed
    bucket = default_bucket_name("123456789012", "eu-west-1")
    s3.add_client_error("head_bucket", "404", "Not Found", 404, {"Bucket": bucket})
    s3.add_response(
        "create_bucket",
        {},
        {
            "Bucket": bucket,
            "ObjectOwnership": "BucketOwnerEnforced",
            "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"},
        },
    )
    s3.add_response(
        "put_public_access_block",
        {},
        {
            "Bucket": bucket,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    s3.add_response(
        "put_bucket_encryption", {}, {"Bucket": bucket, "ServerSideEncryptionConfiguration": ANY}
    )
    s3.add_response("put_bucket_policy", {}, {"Bucket": bucket, "Policy": ANY})
    s3.add_response(
        "put_bucket_lifecycle_configuration", {}, {"Bucket": bucket, "LifecycleConfiguration": ANY}
    )
    s3.add_response(
        "put_object",
        {},
        {
            "Bucket": bucket,
            "Key": ANY,
            "Body": ANY,
            "ContentType": "application/x-yaml",
            "ServerSideEncryption": "AES256",
        },
    )
    s3.add_response("put_object", {})  # the second large template: the bucket is ready
    store = ArtifactStore(clients.s3, "eu-west-1", lambda: bucket)
    big = padded(env, MAX_TEMPLATE_BODY + 1).stacks[0]
    argument = store.template_argument("sample-test", big)
    assert list(argument) == ["TemplateURL"]
    assert argument["TemplateURL"].startswith(f"https://s3.eu-west-1.amazonaws.com/{bucket}/")
    assert argument["TemplateURL"].endswith(".yaml")
    store.template_argument("sample-test", big)


def test_bucket_policy_denies_insecure_transport() -> None:
    from cfngen.deploy.artifacts import bucket_policy

    statement = json.loads(bucket_policy("b"))["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_template_over_one_megabyte_is_refused_before_any_call(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, _, _ = stubbed  # nothing queued: a single API call would fail the test
    huge = padded(env, MAX_TEMPLATE_URL + 1)
    with pytest.raises(UsageError, match="1,000,000-byte limit") as err:
        deployment(huge, clients).deploy()
    assert err.value.exit_code == 2
    with pytest.raises(UsageError):
        deployment(huge, clients).plan()


def test_interrupt_stops_waiting_and_says_what_still_runs_server_side(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    import threading

    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response("get_template", {"TemplateBody": "Resources: {}\n"})
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Topic",
                        "ResourceType": "AWS::SNS::Topic",
                    },
                }
            ],
        },
    )
    cfn.add_response("describe_stack_events", events(event("UPDATE_COMPLETE")))
    cfn.add_response("execute_change_set", {})
    # then the deploy waits (first poll after 2 s); "Ctrl-C" arrives before it
    slow = DeployOptions(poll=PollPolicy(initial=2.0, maximum=2.0))
    deploying = Deployment(env, clients, slow)
    threading.Timer(0.3, deploying.poller.cancel.set).start()
    summary = deploying.deploy()
    assert [r.outcome for r in summary.results] == [Outcome.INTERRUPTED]
    assert summary.exit_code == 130
    assert summary.still_running == [NAME]
    text = summary.render()
    assert f"still running in CloudFormation (not cancelled): {NAME}" in text
    assert "Run the same command again" in text


def test_replacing_the_resource_behind_an_export_in_use_stops_before_execution(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    network = env.stacks[0]
    body = network.body.replace(
        "TopicName: !Sub '${EnvironmentName}-events'",
        "TopicName: !Sub '${EnvironmentName}-events2'",
    )
    changed = replace(env, stacks=(replace(network, body=body),))
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs=EXPORTED))
    cfn.add_response("get_template", {"TemplateBody": network.body})
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "Topic",
                        "ResourceType": "AWS::SNS::Topic",
                        "Replacement": "True",
                        "Scope": ["Properties"],
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "TopicName",
                                    "RequiresRecreation": "Always",
                                }
                            }
                        ],
                    },
                }
            ],
        },
    )
    # Ref Topic changes with the replacement, so the TopicArn export changes value
    cfn.add_response(
        "list_imports",
        {"Imports": ["sample-test-app-a"]},
        {"ExportName": "sample-test-network-TopicArn"},
    )
    # is the importer a removed component of this environment? Not tagged as ours: no
    cfn.add_response(
        "describe_stacks", stack("UPDATE_COMPLETE", tags=[]), {"StackName": "sample-test-app-a"}
    )
    cfn.add_response("delete_change_set", {})
    summary = deployment(changed, clients).deploy()
    result = summary.results[0]
    assert result.outcome is Outcome.FAILED
    assert (
        "Topic (AWS::SNS::Topic) would be replaced, which changes export "
        "sample-test-network-TopicArn that sample-test-app-a import" in result.message
    )
    assert "--allow-replace cannot help" in result.message
    assert (
        "The order that works: deploy sample-test-app-a without the import, then "
        "sample-test-network, then sample-test-app-a with the import again" in result.message
    )


def test_an_export_used_by_a_removed_component_points_at_prune(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    clients, cfn, _ = stubbed
    network = env.stacks[0]
    body = network.body.replace(
        "TopicName: !Sub '${EnvironmentName}-events'",
        "TopicName: !Sub '${EnvironmentName}-events2'",
    )
    changed = replace(env, stacks=(replace(network, body=body),))
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE", outputs=EXPORTED))
    cfn.add_response("get_template", {"TemplateBody": network.body})
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "Topic",
                        "ResourceType": "AWS::SNS::Topic",
                        "Replacement": "True",
                        "Scope": ["Properties"],
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "TopicName",
                                    "RequiresRecreation": "Always",
                                }
                            }
                        ],
                    },
                }
            ],
        },
    )
    # Ref Topic changes with the replacement, so the TopicArn export changes value
    cfn.add_response(
        "list_imports",
        {"Imports": ["sample-test-app-a"]},
        {"ExportName": "sample-test-network-TopicArn"},
    )
    # the importer carries this environment's tags but is not in it: a removed component
    cfn.add_response(
        "describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": "sample-test-app-a"}
    )
    cfn.add_response("delete_change_set", {})
    summary = deployment(changed, clients).deploy()
    result = summary.results[0]
    assert result.outcome is Outcome.FAILED
    assert "export sample-test-network-TopicArn would be removed or changed" in result.message
    assert "imported by sample-test-app-a" in result.message
    assert (
        "sample-test-app-a is no longer in the blueprint: `cfngen deploy --prune` deletes it "
        "before this stack is updated" in result.message
    )
    assert "without the import first" not in result.message


# --- plan with AWS's property values ------------------------------------------------------


def test_plan_asks_for_and_shows_property_values_from_the_change_set(
    env: RenderedEnvironment, stubbed: tuple[Clients, Stubber, Stubber]
) -> None:
    """With a botocore that knows IncludePropertyValues, plan's before/after come from AWS
    (resolved values), not from the templates (unresolved intrinsics)."""
    clients, cfn, _ = stubbed
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    cfn.add_response(
        "get_template", {"TemplateBody": env.stacks[0].body.replace("network-v1", "network-v0")}
    )
    cfn.add_response(
        "create_change_set",
        {"Id": CS_ID, "StackId": STACK_ID},
        {
            "StackName": NAME,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "Parameters": ANY,
            "Capabilities": ANY,
            "Tags": ANY,
            "Description": ANY,
            "TemplateBody": ANY,
        },
    )
    detail = {
        "Target": {
            "Attribute": "Properties",
            "Name": "Value",
            "RequiresRecreation": "Never",
            "BeforeValue": "network-v0",
            "AfterValue": "network-v1",
        },
        "Evaluation": "Static",
        "ChangeSource": "DirectModification",
    }
    cfn.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "Param",
                        "ResourceType": "AWS::SSM::Parameter",
                        "Replacement": "False",
                        "Details": [detail],
                    },
                }
            ],
        },
        {"StackName": NAME, "ChangeSetName": CS_ID, "IncludePropertyValues": True},
    )
    cfn.add_response("delete_change_set", {}, {"StackName": NAME, "ChangeSetName": CS_ID})
    report = deployment(env, clients).plan()
    (plan,) = report.stacks
    assert plan.action == "update"
    (change,) = plan.resources
    (prop,) = change.properties
    assert (prop.name, prop.before, prop.after) == ("Value", "network-v0", "network-v1")


def test_an_answer_cut_off_mid_response_fails_the_stack_with_the_connection_step() -> None:
    """A connection cut while AWS answers reaches botocore's parser as an empty body:
    ResponseParserError, which is no BotoCoreError. It failed the whole run as an "internal
    error (a bug)" (found by test_faults under load); it is the stack's failure, with the
    connection's next step, like any lost connection."""
    import http.server
    import threading

    from botocore.config import Config

    class Empty(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = sample_environment()
        env = replace(env, stacks=[s for s in env.stacks if s.component == "solo"])
        cfn = boto3.client(
            "cloudformation",
            region_name=env.region,
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        s3 = boto3.client("s3", region_name=env.region)
        summary = deployment(env, Clients(cloudformation=cfn, s3=s3, region=env.region)).deploy()
    finally:
        server.shutdown()
        server.server_close()
    [result] = summary.results
    assert result.outcome == Outcome.FAILED
    assert "Unable to parse response" in result.message
    assert result.next_step.startswith("check the connection to AWS"), result.next_step
