"""The security builder, asserted by what it renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import load_template
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
security_groups:
  lb:
    description: load balancer
    ingress:
      - {port: 443, cidr: 0.0.0.0/0, description: HTTPS}
    egress:
      - {ports: 8000-8100, to: app, description: to the app}
  app:
    description: app
    ingress:
      - {ports: 8000-8100, from: lb, description: from the lb}
      - {protocol: all, from: app, description: between tasks}
  db:
    description: database
    ingress:
      - {port: 5432, from: app, description: postgres}
    egress: []
environments: {dev: {}}
"""


def security(tmp_path: Path) -> dict[str, Any]:
    return load_template(compile_text(tmp_path, BP).stack("security").body)


def test_groups_import_the_vpc_and_export_their_ids(tmp_path: Path) -> None:
    t = security(tmp_path)
    groups = {k: v for k, v in t["Resources"].items() if v["Type"] == "AWS::EC2::SecurityGroup"}
    assert sorted(groups) == ["AppSecurityGroup", "DbSecurityGroup", "LbSecurityGroup"]
    assert groups["AppSecurityGroup"]["Properties"]["VpcId"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-network-VpcId"}
    }
    assert t["Outputs"]["AppSecurityGroupId"]["Export"]["Name"] == {
        "Fn::Sub": "${EnvironmentName}-security-AppSecurityGroupId"
    }


def test_group_rules_are_separate_resources_with_descriptions(tmp_path: Path) -> None:
    r = security(tmp_path)["Resources"]
    assert r["AppIngressTcp8000To8100FromLb"]["Properties"] == {
        "Description": "from the lb",
        "FromPort": 8000,
        "ToPort": 8100,
        "IpProtocol": "tcp",
        "GroupId": {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]},
        "SourceSecurityGroupId": {"Fn::GetAtt": ["LbSecurityGroup", "GroupId"]},
    }
    assert r["AppIngressAllFromApp"]["Properties"]["IpProtocol"] == "-1"
    assert "FromPort" not in r["AppIngressAllFromApp"]["Properties"]
    assert r["LbEgressTcp8000To8100ToApp"]["Properties"]["DestinationSecurityGroupId"] == {
        "Fn::GetAtt": ["AppSecurityGroup", "GroupId"]
    }


def test_egress_default_restricted_and_none(tmp_path: Path) -> None:
    r = security(tmp_path)["Resources"]
    # omitted: AWS's allow-all default, written out with a description
    assert r["AppSecurityGroup"]["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "IpProtocol": "-1",
            "Description": "All outbound traffic (AWS default, made explicit)",
        }
    ]
    # [] and group-only rules: a rule matching nothing replaces the default
    for group in ("DbSecurityGroup", "LbSecurityGroup"):
        (rule,) = r[group]["Properties"]["SecurityGroupEgress"]
        assert rule["CidrIp"] == "255.255.255.255/32"
    assert r["LbSecurityGroup"]["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "Description": "HTTPS",
        }
    ]


def test_waivers_land_in_metadata(tmp_path: Path) -> None:
    text = BP.replace(
        "    description: load balancer\n",
        "    description: load balancer\n    waivers:\n"
        "      - {check: CKV_AWS_260, reason: port 80 only redirects to HTTPS}\n",
    )
    r = load_template(compile_text(tmp_path, text).stack("security").body)["Resources"]
    assert r["LbSecurityGroup"]["Metadata"] == {
        "cfngen": {"source": "security_groups.lb"},
        "checkov": {"skip": [{"id": "CKV_AWS_260", "comment": "port 80 only redirects to HTTPS"}]},
    }
    # the group's own rules to other groups are resources of the same entry: waived too
    assert r["LbEgressTcp8000To8100ToApp"]["Metadata"]["checkov"]["skip"] == [
        {"id": "CKV_AWS_260", "comment": "port 80 only redirects to HTTPS"}
    ]
    assert "checkov" not in r["AppSecurityGroup"]["Metadata"]


def test_internet_facing_load_balancer_groups_need_no_cfg013_waiver(tmp_path: Path) -> None:
    """CFG013 sees the balancer in its own stack (lint's cross-stack pre-pass): no waiver."""
    text = """\
blueprint: shop
region: eu-west-1
certificates:
  web: {domain: shop.example.com}
dns: {zone: example.com, zone_id: Z0123456789ABCDEFGHIJ}
load_balancers:
  public: {type: application, scheme: internet-facing, certificate: web}
  private: {type: application, plain_http_reason: reached only from the VPC by other services}
services:
  api:
    image: {uri: nginx}
    port: 80
    routes: [{load_balancer: public}, {load_balancer: private}]
environments: {dev: {}}
"""
    r = load_template(compile_text(tmp_path, text).stack("security").body)["Resources"]
    public = r["LbPublicSecurityGroup"]["Metadata"]
    assert "waivers" not in public["cfngen"]
    assert [s["id"] for s in public["checkov"]["skip"]] == ["CKV_AWS_260"]
    assert "waivers" not in r["LbPrivateSecurityGroup"]["Metadata"]["cfngen"]


def test_no_security_stack_without_groups(tmp_path: Path) -> None:
    rendered = compile_text(
        tmp_path, "blueprint: shop\nregion: eu-west-1\nenvironments: {dev: {}}\n"
    )
    assert [s.component for s in rendered.stacks] == ["network"]
