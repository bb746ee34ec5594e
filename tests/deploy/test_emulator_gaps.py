"""The emulator gap list is measured, not believed: each listed type is rejected by MiniStack.

If a MiniStack upgrade starts supporting a type, this test fails and the type comes off the list
(and back into emulator runs).
"""

from __future__ import annotations

import re
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
