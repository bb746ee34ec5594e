"""The network builder, asserted by what it renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cfngen.render import load_template
from tests.helpers import compile_text, errors_of


def network(tmp_path: Path, net: str) -> dict[str, Any]:
    rendered = compile_text(
        tmp_path,
        f"blueprint: shop\nregion: eu-west-1\nnetwork: {net}\nenvironments: {{dev: {{}}}}\n",
    )
    return load_template(rendered.stack("network").body)


def of_type(t: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == rtype}


def test_subnets_spread_over_azs_with_getazs_and_carved_cidrs(tmp_path: Path) -> None:
    t = network(tmp_path, "{cidr: 10.1.0.0/16, availability_zones: 3}")
    subnets = of_type(t, "AWS::EC2::Subnet")
    assert sorted(subnets) == [f"{k}Subnet{i}" for k in ("Private", "Public") for i in (1, 2, 3)]
    assert subnets["PublicSubnet2"]["Properties"]["AvailabilityZone"] == {
        "Fn::Select": [1, {"Fn::GetAZs": ""}]
    }
    assert [subnets[f"PublicSubnet{i}"]["Properties"]["CidrBlock"] for i in (1, 2, 3)] == [
        "10.1.0.0/20",
        "10.1.16.0/20",
        "10.1.32.0/20",
    ]
    assert [subnets[f"PrivateSubnet{i}"]["Properties"]["CidrBlock"] for i in (1, 2, 3)] == [
        "10.1.128.0/20",
        "10.1.144.0/20",
        "10.1.160.0/20",
    ]
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())


@pytest.mark.parametrize(("nat", "gateways"), [("single", 1), ("per-az", 3), ("none", 0)])
def test_nat_modes(tmp_path: Path, nat: str, gateways: int) -> None:
    t = network(tmp_path, f"{{availability_zones: 3, nat: {nat}}}")
    assert len(of_type(t, "AWS::EC2::NatGateway")) == gateways
    assert len(of_type(t, "AWS::EC2::EIP")) == gateways
    routes = of_type(t, "AWS::EC2::Route")
    private = {k: v["Properties"]["NatGatewayId"] for k, v in routes.items() if "Private" in k}
    if nat == "single":
        assert list(private.values()) == [{"Ref": "NatGateway1"}] * 3
    elif nat == "per-az":
        assert private == {f"PrivateDefaultRoute{i}": {"Ref": f"NatGateway{i}"} for i in (1, 2, 3)}
    else:
        assert private == {}
    assert routes["PublicDefaultRoute"]["Properties"]["GatewayId"] == {"Ref": "InternetGateway"}


def test_exports(tmp_path: Path) -> None:
    t = network(tmp_path, "{}")
    assert sorted(t["Outputs"]) == ["PrivateSubnetIds", "PublicSubnetIds", "VpcCidr", "VpcId"]
    assert t["Outputs"]["VpcId"]["Export"]["Name"] == {
        "Fn::Sub": "${EnvironmentName}-network-VpcId"
    }
    assert t["Outputs"]["PrivateSubnetIds"]["Value"] == {
        "Fn::Join": [",", [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]]
    }


def test_flow_logs(tmp_path: Path) -> None:
    t = network(tmp_path, "{flow_logs: {traffic: REJECT, retention_days: 30}}")
    flow = of_type(t, "AWS::EC2::FlowLog")["FlowLog"]["Properties"]
    assert flow["TrafficType"] == "REJECT"
    assert flow["LogGroupName"] == {"Ref": "FlowLogGroup"}
    group = t["Resources"]["FlowLogGroup"]
    assert group["Properties"]["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "Delete"
    role = t["Resources"]["FlowLogRole"]["Properties"]
    statement = role["Policies"][0]["PolicyDocument"]["Statement"][0]
    assert statement["Resource"] == [{"Fn::GetAtt": ["FlowLogGroup", "Arn"]}]


def test_no_flow_logs_by_default(tmp_path: Path) -> None:
    assert of_type(network(tmp_path, "{}"), "AWS::EC2::FlowLog") == {}


def test_overrides_merge_properties_and_add_resources_and_outputs(tmp_path: Path) -> None:
    text = """\
blueprint: shop
region: eu-west-1
overrides:
  network:
    properties:
      Vpc: {InstanceTenancy: dedicated}
    resources:
      EndpointS3:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcId: {Ref: Vpc}
          ServiceName: {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}
    outputs:
      EndpointId: {Value: {Ref: EndpointS3}}
environments: {dev: {}}
"""
    rendered = compile_text(tmp_path, text)
    t = load_template(rendered.stack("network").body)
    vpc = t["Resources"]["Vpc"]["Properties"]
    assert vpc["InstanceTenancy"] == "dedicated"
    assert vpc["CidrBlock"] == "10.0.0.0/16"  # merged, not replaced
    assert t["Resources"]["EndpointS3"]["Type"] == "AWS::EC2::VPCEndpoint"
    assert t["Outputs"]["EndpointId"] == {"Value": {"Ref": "EndpointS3"}}
    from tests.gates import lint_findings

    assert lint_findings([rendered], checkov=False) == []


def test_override_of_unknown_resource(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\noverrides:\n  network:\n    properties:\n"
        "      Vcp: {A: 1}\nenvironments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:7: overrides.network.properties.Vcp: stack network has no resource 'Vcp' "
        "(did you mean 'Vpc'?)"
    ]
