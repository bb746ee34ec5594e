"""Stacks in another region than their environment, with botocore's Stubber.

The environment lives in eu-west-1; its CloudFront-style certificate stack lives in us-east-1 and
the site stack reads the certificate's output with Fn::GetStackOutput. Each region has its own
stubbed client: a call queued on the us-east-1 stub can only be answered if deploy sent it there,
and any call on the wrong client fails the test, so these tests prove the routing per stack.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cfngen.deploy.artifacts import MAX_TEMPLATE_BODY, default_bucket_name
from cfngen.deploy.aws import AwsTarget, CallCounter, Clients, make_clients
from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
from cfngen.deploy.destroy import destroy_environment
from cfngen.deploy.poll import PollPolicy
from cfngen.deploy.status import environment_outputs, environment_status
from cfngen.render import RenderedEnvironment, RenderedStack

FAST = PollPolicy(initial=0.001, factor=1.0, maximum=0.001, timeout=5)
HOME, EAST = "eu-west-1", "us-east-1"
ACCOUNT = "123456789012"
ENV_NAME = "regions-test"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TAGS = {"cfngen:blueprint": "regions", "cfngen:environment": "test"}
CERT_ARN = f"arn:aws:acm:{EAST}:{ACCOUNT}:certificate/0f1e2d3c"

CERTIFICATE = """\
Parameters:
  EnvironmentName: {Type: String}
Resources:
  Certificate:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: www.example.com
      DomainValidationOptions:
        - DomainName: www.example.com
          HostedZoneId: Z0EXAMPLE0000000000001
      ValidationMethod: DNS
Outputs:
  CertificateArn:
    Value: !Ref Certificate
"""

SITE = """\
Parameters:
  EnvironmentName: {Type: String}
Resources:
  CertificateCopy:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !GetStackOutput
        StackName: regions-test-site-certificate
        OutputName: CertificateArn
        Region: us-east-1
"""


def _stack(
    component: str, body: str, depends_on: tuple[str, ...] = (), region: str | None = None
) -> RenderedStack:
    return RenderedStack(
        name=f"{ENV_NAME}-{component}",
        component=component,
        file=f"{component}.yaml",
        body=body,
        parameters={"EnvironmentName": ENV_NAME},
        depends_on=depends_on,
        exports=(),
        imports=(),
        tags=dict(TAGS),
        region=region,
    )


def two_region_environment() -> RenderedEnvironment:
    return RenderedEnvironment(
        blueprint="regions",
        environment="test",
        environment_name=ENV_NAME,
        region=HOME,
        source="tests/deploy/test_regions.py",
        stacks=(
            _stack("site-certificate", CERTIFICATE, region=EAST),
            _stack("site", SITE, depends_on=("site-certificate",)),
        ),
    )


@dataclass
class Region:
    """One region's stubbed clients and the stack that must be worked on there."""

    clients: Clients
    cfn: Stubber
    s3: Stubber
    stack: str

    @property
    def stack_id(self) -> str:
        return f"arn:aws:cloudformation:{self.clients.region}:{ACCOUNT}:stack/{self.stack}/1a2b"

    @property
    def change_set_id(self) -> str:
        region = self.clients.region
        return f"arn:aws:cloudformation:{region}:{ACCOUNT}:changeSet/cfngen-x/{self.stack}"

    def describe(self, status: str, outputs: list[dict[str, str]] | None = None) -> None:
        self.cfn.add_response("describe_stacks", self.stacks(status, outputs), {"StackName": ANY})

    def stacks(self, status: str, outputs: list[dict[str, str]] | None = None) -> dict[str, Any]:
        return {
            "Stacks": [
                {
                    "StackName": self.stack,
                    "StackId": self.stack_id,
                    "StackStatus": status,
                    "CreationTime": NOW,
                    "Parameters": [{"ParameterKey": "EnvironmentName", "ParameterValue": ENV_NAME}],
                    "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
                    "Outputs": outputs or [],
                    "EnableTerminationProtection": False,
                }
            ]
        }

    def missing(self) -> None:
        self.cfn.add_client_error(
            "describe_stacks",
            "ValidationError",
            f"Stack with id {self.stack} does not exist",
            expected_params={"StackName": self.stack},
        )

    def event(self, status: str, n: int) -> dict[str, Any]:
        return {
            "StackId": self.stack_id,
            "EventId": f"{self.stack}-{status}-{n}",
            "StackName": self.stack,
            "LogicalResourceId": self.stack,
            "ResourceType": "AWS::CloudFormation::Stack",
            "Timestamp": NOW,
            "ResourceStatus": status,
        }

    def change_set(self, change_set_type: str, action: str, logical_id: str) -> None:
        self.cfn.add_response(
            "create_change_set",
            {"Id": self.change_set_id, "StackId": self.stack_id},
            {
                "StackName": self.stack,
                "ChangeSetName": ANY,
                "ChangeSetType": change_set_type,
                "TemplateBody": ANY,
                "Parameters": ANY,
                "Capabilities": [],
                "Tags": ANY,
                "Description": ANY,
            },
        )
        change: dict[str, Any] = {
            "Action": action,
            "LogicalResourceId": logical_id,
            "ResourceType": "AWS::CertificateManager::Certificate",
        }
        if action == "Modify":
            change |= {"Replacement": "True", "Scope": ["Properties"], "Details": []}
        self.cfn.add_response(
            "describe_change_set",
            {
                "Status": "CREATE_COMPLETE",
                "ExecutionStatus": "AVAILABLE",
                "Changes": [{"Type": "Resource", "ResourceChange": change}],
            },
            {
                "StackName": self.stack,
                "ChangeSetName": self.change_set_id,
                "IncludePropertyValues": True,
            },
        )

    def execute(self, final: str, n: int) -> None:
        """Prime the event stream, execute, see the stack's terminal event, describe it."""
        before = self.event("REVIEW_IN_PROGRESS", n)
        self.cfn.add_response("describe_stack_events", {"StackEvents": [before]})
        self.cfn.add_response(
            "execute_change_set",
            {},
            {
                "StackName": self.stack,
                "ChangeSetName": self.change_set_id,
            },
        )
        self.cfn.add_response(
            "describe_stack_events", {"StackEvents": [self.event(final, n), before]}
        )
        self.describe(final)

    def delete(self, n: int) -> None:
        self.describe("CREATE_COMPLETE")
        before = self.event("CREATE_COMPLETE", n)
        self.cfn.add_response("describe_stack_events", {"StackEvents": [before]})
        self.cfn.add_response("delete_stack", {}, {"StackName": self.stack_id})
        self.cfn.add_response(
            "describe_stack_events", {"StackEvents": [self.event("DELETE_COMPLETE", n), before]}
        )
        self.cfn.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {self.stack_id} does not exist"
        )


def _clients(region: str) -> Clients:
    kwargs: dict[str, Any] = {
        "region_name": region,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }
    return Clients(
        cloudformation=boto3.client("cloudformation", **kwargs),
        s3=boto3.client("s3", **kwargs),
        region=region,
        sts=boto3.client("sts", **kwargs),
    )


@pytest.fixture
def regions() -> Iterator[tuple[Clients, Region, Region]]:
    """Home (eu-west-1) clients whose us-east-1 clients are another set of stubbed clients."""
    east = _clients(EAST)
    made: list[str] = []

    def make(region: str) -> Clients:
        made.append(region)
        assert region == EAST, f"no stack of this environment lives in {region}"
        return east

    home = replace(_clients(HOME), make=make)
    with (
        Stubber(home.cloudformation) as home_cfn,
        Stubber(home.s3) as home_s3,
        Stubber(east.cloudformation) as east_cfn,
        Stubber(east.s3) as east_s3,
    ):
        yield (
            home,
            Region(home, home_cfn, home_s3, f"{ENV_NAME}-site"),
            Region(east, east_cfn, east_s3, f"{ENV_NAME}-site-certificate"),
        )
        for stub in (home_cfn, home_s3, east_cfn, east_s3):
            stub.assert_no_pending_responses()
    assert made in ([], [EAST])  # made once, then cached


def test_each_stack_is_deployed_with_its_own_regions_client(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, west, east = regions
    env = two_region_environment()
    # the certificate, in us-east-1: only the us-east-1 stub can answer these
    east.missing()
    east.change_set("CREATE", "Add", "Certificate")
    east.execute("CREATE_COMPLETE", 1)
    # then the site, in the environment's region
    west.missing()
    west.change_set("CREATE", "Add", "CertificateCopy")
    west.execute("CREATE_COMPLETE", 1)
    summary = Deployment(env, clients, DeployOptions(poll=FAST, concurrency=1)).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.CREATED, Outcome.CREATED], (
        summary.render()
    )


def test_an_updated_certificate_makes_its_reader_get_a_change_set(
    regions: tuple[Clients, Region, Region],
) -> None:
    """Fn::GetStackOutput is resolved when the reader is created or updated, so a reader whose
    template did not change is not skipped once the stack it reads was updated."""
    clients, west, east = regions
    env = two_region_environment()
    east.describe("CREATE_COMPLETE", [{"OutputKey": "CertificateArn", "OutputValue": CERT_ARN}])
    east.cfn.add_response(
        "get_template",
        {"TemplateBody": CERTIFICATE.replace("www.", "old.")},
        {"StackName": east.stack, "TemplateStage": "Original"},
    )
    east.change_set("UPDATE", "Modify", "Certificate")
    east.execute("UPDATE_COMPLETE", 2)
    west.describe("CREATE_COMPLETE")
    west.cfn.add_response("get_template", {"TemplateBody": SITE})  # the same template
    west.cfn.add_response("create_change_set", {"Id": west.change_set_id, "StackId": west.stack_id})
    west.cfn.add_response(
        "describe_change_set",
        {
            "Status": "FAILED",
            "StatusReason": "The submitted information didn't contain changes. "
            "Submit different information to create a change set.",
            "Changes": [],
        },
    )
    west.cfn.add_response("delete_change_set", {})
    summary = Deployment(env, clients, DeployOptions(poll=FAST)).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.UPDATED, Outcome.UNCHANGED]


def test_unchanged_stacks_in_both_regions_are_skipped_without_change_sets(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, west, east = regions
    env = two_region_environment()
    east.describe("CREATE_COMPLETE")
    east.cfn.add_response("get_template", {"TemplateBody": CERTIFICATE})
    west.describe("CREATE_COMPLETE")
    west.cfn.add_response("get_template", {"TemplateBody": SITE})
    summary = Deployment(env, clients, DeployOptions(poll=FAST)).deploy()
    assert [r.outcome for r in summary.results] == [Outcome.UNCHANGED, Outcome.UNCHANGED]


def test_plan_reads_each_stack_in_its_region(regions: tuple[Clients, Region, Region]) -> None:
    clients, west, east = regions
    east.describe("CREATE_COMPLETE")
    east.cfn.add_response("get_template", {"TemplateBody": CERTIFICATE})
    west.missing()
    report = Deployment(two_region_environment(), clients, DeployOptions(poll=FAST)).plan()
    assert [(p.component, p.action) for p in report.stacks] == [
        ("site-certificate", "unchanged"),
        ("site", "create"),
    ]


def test_plan_says_a_reader_of_a_changing_stack_output_will_get_a_change_set(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, west, east = regions
    east.missing()  # the certificate is still to be created
    west.describe("CREATE_COMPLETE")
    west.cfn.add_response("get_template", {"TemplateBody": SITE})  # the reader is as rendered
    report = Deployment(two_region_environment(), clients, DeployOptions(poll=FAST)).plan()
    site = report.stacks[1]
    assert (site.action, site.resources) == ("update", [])
    assert site.notes == [
        f"reads {east.stack} with Fn::GetStackOutput, which this deploy changes: deploy asks "
        "CloudFormation for a change set to pick up the new value"
    ]
    assert report.has_changes


def test_plan_of_a_replaced_certificate_names_the_stack_reading_its_arn(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, west, east = regions
    east.describe("CREATE_COMPLETE", [{"OutputKey": "CertificateArn", "OutputValue": CERT_ARN}])
    east.cfn.add_response("get_template", {"TemplateBody": CERTIFICATE.replace("www.", "old.")})
    east.change_set("UPDATE", "Modify", "Certificate")  # Replacement: True
    east.cfn.add_response(
        "delete_change_set", {}, {"StackName": east.stack, "ChangeSetName": east.change_set_id}
    )
    west.describe("CREATE_COMPLETE")
    west.cfn.add_response("get_template", {"TemplateBody": SITE})
    report = Deployment(two_region_environment(), clients, DeployOptions(poll=FAST)).plan()
    certificate, site = report.stacks
    assert certificate.action == "update"
    assert certificate.affected_stacks == [west.stack]  # no export, but read by GetStackOutput
    assert site.action == "update" and site.notes


def test_destroy_deletes_the_reader_first_each_in_its_region(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, west, east = regions
    west.delete(3)
    east.delete(3)
    summary = destroy_environment(two_region_environment(), clients, concurrency=1, poll=FAST)
    assert [(r.name, r.outcome) for r in summary.results] == [
        (west.stack, "deleted"),
        (east.stack, "deleted"),
    ]


def test_status_and_outputs_ask_each_stacks_region(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, west, east = regions
    env = two_region_environment()
    east.describe("CREATE_COMPLETE")
    west.describe("UPDATE_COMPLETE")
    rows = environment_status(env, clients)
    assert [(r["stack"], r["region"], r["status"]) for r in rows] == [
        (east.stack, EAST, "CREATE_COMPLETE"),
        (west.stack, HOME, "UPDATE_COMPLETE"),
    ]
    east.describe("CREATE_COMPLETE", [{"OutputKey": "CertificateArn", "OutputValue": CERT_ARN}])
    west.missing()
    outputs = environment_outputs(env, clients)
    assert [(r["stack"], r["region"], r["value"]) for r in outputs] == [
        (east.stack, EAST, CERT_ARN)
    ]


def test_a_large_template_goes_to_the_artifact_bucket_of_its_stacks_region(
    regions: tuple[Clients, Region, Region],
) -> None:
    clients, _, east = regions
    env = two_region_environment()
    certificate = env.stacks[0]
    big = replace(certificate, body=certificate.body + "# " + "x" * MAX_TEMPLATE_BODY + "\n")
    bucket = default_bucket_name(ACCOUNT, EAST)
    sts = Stubber(clients.sts)
    sts.add_response(
        "get_caller_identity",
        {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/u", "UserId": "U"},
    )
    east.s3.add_client_error("head_bucket", "404", "Not Found", 404, {"Bucket": bucket})
    # us-east-1 is the one region where CreateBucket takes no LocationConstraint
    east.s3.add_response(
        "create_bucket", {}, {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    )
    for operation in (
        "put_public_access_block",
        "put_bucket_encryption",
        "put_bucket_policy",
        "put_bucket_lifecycle_configuration",
    ):
        east.s3.add_response(operation, {})
    east.s3.add_response(
        "put_object",
        {},
        {
            "Bucket": bucket,
            "Key": ANY,
            "Body": ANY,
            "ContentType": ANY,
            "ServerSideEncryption": ANY,
        },
    )
    with sts:
        deployment = Deployment(
            replace(env, stacks=(big,)), clients, DeployOptions(poll=FAST, artifact_bucket="mine")
        )
        argument = deployment.artifacts(big).template_argument(ENV_NAME, big)
        sts.assert_no_pending_responses()
    # botocore's us-east-1 S3 endpoint is the global one; the bucket is the us-east-1 one
    assert argument["TemplateURL"].startswith(f"https://s3.amazonaws.com/{bucket}/{ENV_NAME}/")


def test_made_clients_follow_the_stack_region_with_the_same_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    home = make_clients(AwsTarget(endpoint_url="http://127.0.0.1:9"), HOME)
    east = home.for_region(EAST)
    assert east is home.for_region(EAST) and home.for_region(None) is home
    assert home.for_region(HOME) is home
    assert east.region == EAST
    assert east.cloudformation.meta.region_name == EAST
    assert east.s3.meta.region_name == EAST
    assert east.cloudformation.meta.endpoint_url == "http://127.0.0.1:9"


def test_hooks_such_as_the_call_counter_follow_the_clients_into_every_region() -> None:
    made: list[Clients] = []

    def make(region: str) -> Clients:
        made.append(_clients(region))
        return made[-1]

    home = replace(_clients(HOME), make=make)
    seen: list[str] = []
    home.every_region(lambda c: seen.append(c.region))
    counter = CallCounter()
    counter.attach_clients(home)
    east = home.for_region(EAST)
    assert seen == [HOME, EAST] and made == [east]
    late: list[str] = []
    home.every_region(lambda c: late.append(c.region))  # registered after: sees both at once
    assert late == [HOME, EAST]


@pytest.mark.xdist_group("ministack")
def test_commands_work_on_both_regions_of_a_real_emulator(emulator: str, tmp_path: Path) -> None:
    """The CLI on MiniStack: the certificate lands in us-east-1, the rest in eu-west-1."""
    from click.testing import CliRunner

    from cfngen.cli import cli
    from cfngen.render import write_environment

    env = two_region_environment()
    plain = SITE.split("      Value: !GetStackOutput")[0] + "      Value: plain\n"
    env = replace(env, stacks=(env.stacks[0], replace(env.stacks[1], body=plain)))
    directory = write_environment(env, tmp_path / "out")
    target = [str(directory), "--env", "test", "--endpoint-url", emulator]

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    # the made-up hosted zone is not a prerequisite this test is about
    code, output = run(
        "deploy", *target, "--yes", "--poll-interval", "0.05", "--skip-prerequisites"
    )
    assert code == 0 and "2 stacks: 2 created" in output, output
    code, output = run("status", *target)
    assert code == 0, output
    assert re.search(rf"{ENV_NAME}-site-certificate +{EAST} +CREATE_COMPLETE", output), output
    assert re.search(rf"{ENV_NAME}-site +{HOME} +CREATE_COMPLETE", output), output
    for region, present in ((EAST, f"{ENV_NAME}-site-certificate"), (HOME, f"{ENV_NAME}-site")):
        cfn = boto3.client(
            "cloudformation",
            endpoint_url=emulator,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == [present]
    code, output = run("outputs", *target, "--format", "json")
    rows = json.loads(output)
    assert [(r["region"], r["key"]) for r in rows] == [(EAST, "CertificateArn")]
    assert rows[0]["value"].startswith("arn:aws:acm:us-east-1:")
    code, output = run("destroy", *target, "--yes", "--poll-interval", "0.05")
    assert code == 0 and output.count("deleted") == 2, output
