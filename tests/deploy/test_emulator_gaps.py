"""The emulator gap list is measured, not believed: each listed type is rejected by MiniStack.

If a MiniStack upgrade starts supporting a type, this test fails and the type comes off the list
(and back into emulator runs).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from cfngen.deploy.aws import Clients
from cfngen.deploy.emulator import MiniStack
from cfngen.deploy.emulator_gaps import UNSUPPORTED_TYPES, emulator_environment
from cfngen.errors import UsageError
from tests.deploy.sample import sample_environment, with_stack

pytestmark = pytest.mark.xdist_group("ministack")


def test_every_listed_type_is_rejected_by_the_emulator(emulator: str, clients: Clients) -> None:
    body = "Resources:\n" + "".join(
        f"  R{i}:\n    Type: {rtype}\n" for i, rtype in enumerate(sorted(UNSUPPORTED_TYPES))
    )
    with pytest.raises(ClientError) as err:
        clients.cloudformation.create_change_set(
            StackName="gap-probe",
            ChangeSetName="probe",
            ChangeSetType="CREATE",
            TemplateBody=body,
        )
    message = err.value.response["Error"]["Message"]
    match = re.search(r"Unrecognized resource types: \[(.*)\]", message)
    assert match, message
    assert set(match.group(1).split(", ")) == UNSUPPORTED_TYPES


def test_filter_drops_unsupported_resources_and_what_needs_them() -> None:
    env = sample_environment()
    body = env.stack("app-b").body.replace("AWS::SSM::Parameter", "AWS::EC2::NatGateway", 1)
    reduced, excluded = emulator_environment(with_stack(env, "app-b", body=body))
    assert [s.component for s in reduced.stacks] == ["network", "solo", "app-a"]
    assert [(e.stack, e.why.split(":")[0]) for e in excluded] == [
        ("app-b", "whole stack"),
        ("edge", "whole stack"),  # it imports app-b's exports, which are gone
    ]


def test_filter_keeps_what_does_not_need_the_unsupported_resources() -> None:
    from cfngen.deploy.emulator_gaps import prune

    template = {
        "Resources": {
            "Eip": {"Type": "AWS::EC2::EIP"},
            "Nat": {
                "Type": "AWS::EC2::NatGateway",
                "Properties": {"AllocationId": {"Fn::GetAtt": ["Eip", "AllocationId"]}},
            },
            "Route": {"Type": "AWS::EC2::Route", "Properties": {"NatGatewayId": {"Ref": "Nat"}}},
            "Table": {"Type": "AWS::EC2::RouteTable", "DependsOn": ["Nat"]},
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Value": {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-x-Gone"}}
                },
            },
        },
        "Outputs": {"NatId": {"Value": {"Ref": "Nat"}}, "TableId": {"Value": {"Ref": "Table"}}},
    }
    pruned, removed = prune(template, "e", {"e-x-Gone"})
    assert removed == ["Eip", "Nat", "Param", "Route"]
    assert pruned["Resources"] == {"Table": {"Type": "AWS::EC2::RouteTable"}}
    assert pruned["Outputs"] == {"TableId": {"Value": {"Ref": "Table"}}}


def test_a_missing_emulator_is_a_clear_error(tmp_path: Path) -> None:
    server = MiniStack(tmp_path / "log", binary=tmp_path / "no-such-ministack")
    with pytest.raises(UsageError, match=r"MiniStack not found at .*run `make emulator`"):
        server.start()


def test_reading_another_regions_stack_output_fails_on_the_emulator(clients: Clients) -> None:
    """Why Fn::GetStackOutput is in UNSUPPORTED_FUNCTIONS, measured through cfngen's own path:
    the DNS-validated certificate deploys in us-east-1 (so it is not listed), and the stack that
    reads its ARN with !GetStackOutput, as cfngen renders it, does not deploy."""
    from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
    from cfngen.deploy.emulator_gaps import UNSUPPORTED_FUNCTIONS
    from cfngen.deploy.poll import PollPolicy
    from tests.deploy.test_regions import two_region_environment

    assert set(UNSUPPORTED_FUNCTIONS) == {"Fn::GetStackOutput"}
    env = two_region_environment()
    poll = PollPolicy(initial=0.05, factor=1.5, maximum=0.5, timeout=60)
    summary = Deployment(env, clients, DeployOptions(poll=poll)).deploy()
    certificate, site = summary.results
    assert certificate.outcome is Outcome.CREATED, summary.render()
    east = clients.for_region("us-east-1").cloudformation
    arn = east.describe_stacks(StackName=certificate.name)["Stacks"][0]["Outputs"][0]
    assert arn["OutputValue"].startswith("arn:aws:acm:us-east-1:")
    assert site.outcome is Outcome.FAILED
    assert "could not determine a constructor for the tag '!GetStackOutput'" in site.message

    # the long form gets past CreateChangeSet, but MiniStack looks in the reader's own region
    reader = env.stacks[1]
    long_form = (
        reader.body.replace(
            "      Value: !GetStackOutput\n        StackName:",
            "      Value:\n        Fn::GetStackOutput:\n          StackName:",
        )
        .replace("        OutputName:", "          OutputName:")
        .replace("        Region:", "          Region:")
    )
    assert "Fn::GetStackOutput:" in long_form
    again = Deployment(
        replace(env, stacks=(env.stacks[0], replace(reader, body=long_form))),
        clients,
        DeployOptions(poll=poll),
    ).deploy()
    site = again.results[1]
    assert site.outcome is Outcome.FAILED and site.message.startswith("ROLLBACK_COMPLETE")
    assert f"Output 'CertificateArn' not found in stack '{certificate.name}'" in site.message


def test_filter_leaves_out_what_reads_another_stacks_output() -> None:
    from tests.deploy.test_regions import two_region_environment

    reduced, excluded = emulator_environment(two_region_environment())
    assert [s.component for s in reduced.stacks] == ["site-certificate"]
    assert [(e.stack, e.why) for e in excluded] == [
        ("site", "whole stack: CertificateCopy (AWS::SSM::Parameter)")
    ]


METRIC_MATH_ALARM = """\
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      ComparisonOperator: LessThanThreshold
      EvaluationPeriods: 1
      Threshold: 1
      Metrics:
        - Id: running
          ReturnData: true
          Expression: "m1 + 0"
        - Id: m1
          ReturnData: false
          MetricStat:
            Metric: {Namespace: ECS/ContainerInsights, MetricName: RunningTaskCount}
            Period: 60
            Stat: Average
"""


def test_every_listed_property_fails_its_resource_on_the_emulator(clients: Clients) -> None:
    from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
    from cfngen.deploy.emulator_gaps import UNSUPPORTED_PROPERTIES
    from cfngen.deploy.poll import PollPolicy

    probes = {("AWS::CloudWatch::Alarm", "Metrics"): METRIC_MATH_ALARM}
    assert set(probes) == set(UNSUPPORTED_PROPERTIES)  # every listed property has a probe
    env = sample_environment()
    for (rtype, prop), body in sorted(probes.items()):
        probe = with_stack(env, "solo", body=body)
        probe = replace(probe, stacks=(probe.stack("solo"),))
        poll = PollPolicy(initial=0.05, factor=1.5, maximum=0.5, timeout=60)
        summary = Deployment(probe, clients, DeployOptions(poll=poll)).deploy()
        result = summary.results[0]
        assert result.outcome is Outcome.FAILED, (rtype, prop, summary.render())
        assert f"Properties.{prop}" in result.message, result.message


def test_emulator_variables_only_replace_what_the_blueprint_takes_as_a_variable(
    tmp_path: Path,
) -> None:
    from cfngen.deploy.emulator import emulator_variables

    literal = tmp_path / "literal.yaml"
    literal.write_text("blueprint: x\ndns: {zone: example.com, zone_id: Z0123}\n")
    none = tmp_path / "none.yaml"
    none.write_text("blueprint: x\n")
    # a closed port: either call would fail if it tried to create a zone
    assert emulator_variables("http://127.0.0.1:9", literal) == {}
    assert emulator_variables("http://127.0.0.1:9", none) == {}


def test_emulator_variables_create_the_zone_a_blueprint_names_by_variable(
    emulator: str, tmp_path: Path
) -> None:
    import boto3

    from cfngen.deploy.emulator import emulator_variables

    blueprint = tmp_path / "zone.yaml"
    blueprint.write_text(
        "blueprint: x\nvars: {zone: city.example, zone_id: Z0EXAMPLE}\n"
        'dns: {zone: "{{ vars.zone }}", zone_id: "{{ vars.zone_id }}"}\n'
    )
    made = emulator_variables(emulator, blueprint)
    assert list(made) == ["zone_id"] and made["zone_id"] != "Z0EXAMPLE"
    route53 = boto3.client("route53", endpoint_url=emulator, region_name="us-east-1")
    zone = route53.get_hosted_zone(Id=made["zone_id"])["HostedZone"]
    assert zone["Name"].rstrip(".") == "city.example"
