"""Network checks: admin ports (CFG006), public-IP subnets (CFG011), rule descriptions (CFG012),
internet ingress outside load balancers (CFG013), PrivateLink bypass (CFG018)."""

from __future__ import annotations

import textwrap

from tests.checks.helpers import hits, line_of, lint, ours


def group(ingress: str) -> str:
    """A template with one security group whose only ingress rule is `ingress` (flow style)."""
    return f"""\
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      VpcId: vpc-123
      SecurityGroupIngress:
        - {ingress}
"""


# --- CFG006 admin and data ports ----------------------------------------------------------------


def test_cfg006_bad_ssh_from_anywhere() -> None:
    text = group("{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0, Description: x}")
    assert hits("CFG006", text) == [("Group", "SSH port 22 is open to the internet (0.0.0.0/0)")]
    assert ours(lint(text), "CFG006") == [("Group", line_of(text, "Group"))]


def test_cfg006_bad_all_protocols_from_anywhere() -> None:
    text = group("{IpProtocol: -1, CidrIp: 0.0.0.0/0, Description: everything}")
    found = hits("CFG006", text)
    # one finding for the one rule, naming every admin and data port the check knows
    assert len(found) == 1 and found[0][0] == "Group"
    message = found[0][1]
    assert message.startswith("SSH port 22, RDP port 3389, PostgreSQL port 5432")
    assert message.endswith("and NFS port 2049 are open to the internet (0.0.0.0/0, all ports)")
    # the same rule is not reported again by CFG013
    assert hits("CFG013", text) == []


def test_cfg006_bad_ipv6_anywhere() -> None:
    text = group(
        '{IpProtocol: "-1", FromPort: -1, ToPort: -1, CidrIpv6: "::/0", Description: everything}'
    )
    found = hits("CFG006", text)
    assert len(found) == 1 and "RDP port 3389" in found[0][1] and "(::/0, all ports)" in found[0][1]


def test_cfg006_bad_port_range_and_separate_ingress_resource() -> None:
    text = """\
    Resources:
      Group:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: g
      DbFromAnywhere:
        Type: AWS::EC2::SecurityGroupIngress
        Properties:
          GroupId: !GetAtt Group.GroupId
          IpProtocol: tcp
          FromPort: "3000"
          ToPort: "3400"
          CidrIp: 0.0.0.0/0
          Description: range
    """
    found = hits("CFG006", text)
    assert found == [
        (
            "DbFromAnywhere",
            "RDP port 3389 and MySQL port 3306 are open to the internet (0.0.0.0/0, one rule)",
        )
    ]
    assert ours(lint(text), "CFG006") == [("DbFromAnywhere", line_of(text, "DbFromAnywhere"))]


def test_cfg006_good_private_peer_icmp_and_web_ports() -> None:
    for ingress in (
        "{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8, Description: x}",
        "{IpProtocol: icmp, FromPort: -1, ToPort: -1, CidrIp: 0.0.0.0/0, Description: x}",
        "{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0, Description: x}",
        "{IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 0.0.0.0/0}",
        "{IpProtocol: -1, SourceSecurityGroupId: sg-123, Description: x}",
    ):
        assert hits("CFG006", group(ingress)) == [], ingress


# --- CFG013 internet ingress outside a public load balancer's listeners -------------------------

BALANCER = """\
Resources:
  LbGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: load balancer
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: PORT, ToPort: PORT, CidrIp: 0.0.0.0/0, Description: web}
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Scheme: SCHEME
      Subnets: [subnet-1, subnet-2]
      SecurityGroups: [!GetAtt LbGroup.GroupId]
  Https:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Lb
      Port: 443
      Protocol: HTTPS
      Certificates: [{CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/x}]
      DefaultActions: [{Type: fixed-response, FixedResponseConfig: {StatusCode: "404"}}]
"""


def balancer(port: int, scheme: str = "internet-facing") -> str:
    return BALANCER.replace("PORT", str(port)).replace("SCHEME", scheme)


def test_cfg013_good_listener_port_of_an_internet_facing_balancer() -> None:
    assert hits("CFG013", balancer(443)) == []
    assert ours(lint(balancer(443)), "CFG013") == []


def test_cfg013_bad_port_that_is_not_a_listener() -> None:
    text = balancer(8000)
    assert hits("CFG013", text) == [
        (
            "LbGroup",
            "accepts 8000 from anywhere (0.0.0.0/0) and is an internet-facing load "
            "balancer's group, but these are not its listeners",
        )
    ]
    assert ours(lint(text), "CFG013") == [("LbGroup", line_of(text, "LbGroup"))]


def test_cfg013_bad_internal_balancer() -> None:
    found = hits("CFG013", balancer(443, "internal"))
    assert [r for r, _ in found] == ["LbGroup"]
    assert "is not the group of an internet-facing load balancer" in found[0][1]


def test_cfg013_bad_group_attached_to_nothing() -> None:
    text = group("{IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0, Description: x}")
    text += "        - {IpProtocol: tcp, FromPort: 8000, ToPort: 8000, CidrIpv6: '::/0'}\n"
    assert hits("CFG013", text) == [
        (
            "Group",
            "accepts 80, 8000 from anywhere (0.0.0.0/0 and ::/0) and is not the group of an "
            "internet-facing load balancer in this template",
        )
    ]


def test_cfg013_good_separate_ingress_on_the_balancer_group_and_private_peers() -> None:
    text = balancer(443) + "\n".join(
        "  " + line if line else line
        for line in textwrap.dedent(
            """\
            HttpsV6:
              Type: AWS::EC2::SecurityGroupIngress
              Properties:
                GroupId: !Ref LbGroup
                IpProtocol: tcp
                FromPort: 443
                ToPort: 443
                CidrIpv6: "::/0"
                Description: web over IPv6
            Private:
              Type: AWS::EC2::SecurityGroup
              Properties:
                GroupDescription: private
                SecurityGroupIngress:
                  - {IpProtocol: tcp, FromPort: 8000, ToPort: 8000, CidrIp: 10.0.0.0/16}
            """
        ).splitlines()
    )
    assert hits("CFG013", text) == []


# --- CFG012 rule descriptions -------------------------------------------------------------------


def test_cfg012_bad_rules_without_description() -> None:
    text = """\
    Resources:
      Group:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: g
          SecurityGroupIngress:
            - {IpProtocol: tcp, FromPort: 443, ToPort: 443, SourceSecurityGroupId: sg}
            - {IpProtocol: tcp, FromPort: 80, ToPort: 80, SourceSecurityGroupId: sg, Description: x}
          SecurityGroupEgress:
            - {IpProtocol: -1, CidrIp: 0.0.0.0/0}
      Extra:
        Type: AWS::EC2::SecurityGroupEgress
        Properties:
          GroupId: !Ref Group
          IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
    """
    assert hits("CFG012", text) == [
        ("Group", "1 rule(s) in SecurityGroupIngress without a Description"),
        ("Group", "1 rule(s) in SecurityGroupEgress without a Description"),
        ("Extra", "the rule has no Description"),
    ]
    assert sorted(ours(lint(text), "CFG012")) == sorted(
        [("Group", line_of(text, "Group"))] * 2 + [("Extra", line_of(text, "Extra"))]
    )


def test_cfg012_good_described_rules_and_conditional_rules() -> None:
    text = """\
    Conditions:
      Prod: !Equals [!Ref AWS::StackName, prod]
    Resources:
      Group:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: g
          SecurityGroupIngress:
            - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/8, Description: x}
            - !If
              - Prod
              - {IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 10.0.0.0/8, Description: y}
              - !Ref AWS::NoValue
          SecurityGroupEgress: !If
            - Prod
            - [{IpProtocol: -1, CidrIp: 0.0.0.0/0, Description: z}]
            - !Ref AWS::NoValue
    """
    assert hits("CFG012", text) == []


# --- CFG011 subnets that map public IPs ---------------------------------------------------------

SUBNET = """\
Resources:
  PublicSubnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: vpc-123
      CidrBlock: 10.0.1.0/24
      MapPublicIpOnLaunch: MAP
"""


def subnet(map_public: str = "true", extra: str = "") -> str:
    return SUBNET.replace("MAP", map_public) + textwrap.indent(textwrap.dedent(extra), "  ")


def test_cfg011_bad_public_subnet_without_hosts() -> None:
    text = subnet(
        extra="""\
        Nat:
          Type: AWS::EC2::NatGateway
          Properties:
            SubnetId: !Ref PublicSubnet
            AllocationId: eipalloc-1
        """
    )
    assert [r for r, _ in hits("CFG011", text)] == ["PublicSubnet"]
    assert ours(lint(text), "CFG011") == [("PublicSubnet", line_of(text, "PublicSubnet"))]


def test_cfg011_good_instance_in_the_public_subnet() -> None:
    text = subnet(
        extra="""\
        Bastion:
          Type: AWS::EC2::Instance
          Properties:
            ImageId: ami-12345678
            SubnetId: !Ref PublicSubnet
        """
    )
    assert hits("CFG011", text) == []


def test_cfg011_bad_instance_that_opts_out_of_the_public_ip() -> None:
    text = subnet(
        extra="""\
        Host:
          Type: AWS::EC2::Instance
          Properties:
            ImageId: ami-12345678
            NetworkInterfaces:
              - {DeviceIndex: "0", SubnetId: !Ref PublicSubnet, AssociatePublicIpAddress: false}
        """
    )
    assert [r for r, _ in hits("CFG011", text)] == ["PublicSubnet"]


def test_cfg011_good_auto_scaling_group_in_the_subnet() -> None:
    text = subnet(
        map_public='"true"',
        extra="""\
        Template:
          Type: AWS::EC2::LaunchTemplate
          Properties:
            LaunchTemplateData: {ImageId: ami-12345678}
        Hosts:
          Type: AWS::AutoScaling::AutoScalingGroup
          Properties:
            MinSize: "1"
            MaxSize: "1"
            VPCZoneIdentifier: [!Ref PublicSubnet]
            LaunchTemplate:
              LaunchTemplateId: !Ref Template
              Version: !GetAtt Template.LatestVersionNumber
        """,
    )
    assert hits("CFG011", text) == []
    opted_out = text.replace(
        "{ImageId: ami-12345678}",
        "{ImageId: ami-12345678, NetworkInterfaces: [{DeviceIndex: 0, "
        "AssociatePublicIpAddress: false}]}",
    )
    assert [r for r, _ in hits("CFG011", opted_out)] == ["PublicSubnet"]


def test_cfg011_good_subnet_without_public_ips() -> None:
    assert hits("CFG011", subnet("false")) == []
    assert hits("CFG011", subnet("!Ref MapPublic")) == []


# --- CFG018 PrivateLink bypass ------------------------------------------------------------------

NLB = """\
Resources:
  Nlb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Type: network
      Scheme: internal
      Subnets: [subnet-1]
      SecurityGroups: [sg-1]
"""


def test_cfg018_bad_enforcement_off() -> None:
    text = NLB + '      EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "off"\n'
    found = hits("CFG018", text)
    assert [r for r, _ in found] == ["Nlb"]
    assert ours(lint(text), "CFG018") == [("Nlb", line_of(text, "Nlb"))]


def test_cfg018_good_enforcement_on_or_default() -> None:
    assert hits("CFG018", NLB) == []
    text = NLB + '      EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "on"\n'
    assert hits("CFG018", text) == []
