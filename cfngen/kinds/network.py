"""The network kind: the VPC, subnets over N AZs, internet gateway, NAT, route tables and flow
logs, in the stack `network` that every other stack builds on."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from awacs import logs as awacs_logs
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import (
    GetAtt,
    GetAZs,
    Join,
    Ref,
    Select,
    cloudformation,
    ec2,
    iam,
)

from cfngen.blueprint.models import Blueprint, Network
from cfngen.blueprint.source import Path_, dotted
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import existing_value, log_group, service_trust
from cfngen.kinds.base import Facts, Kind

COMPONENT = "network"

# Outputs other stacks import (the only spelling of these names).
VPC_ID = "VpcId"
VPC_CIDR = "VpcCidr"
PUBLIC_SUBNETS = "PublicSubnetIds"
PRIVATE_SUBNETS = "PrivateSubnetIds"


def subnet_cidrs(net: Network) -> tuple[list[str], list[str]]:
    """Public and private subnet CIDRs: as given, or carved from the VPC CIDR.

    The VPC is cut into 16 equal blocks: public subnets take blocks 0..N-1, private subnets take
    blocks 8..8+N-1, so adding an AZ later never moves an existing subnet.
    """
    n = net.availability_zones
    vpc = ipaddress.IPv4Network(net.cidr)
    blocks: list[ipaddress.IPv4Network] = []
    if vpc.prefixlen <= 24:
        blocks = list(vpc.subnets(new_prefix=min(vpc.prefixlen + 4, 28)))
    public = list(net.public_subnets or [str(b) for b in blocks[:n]])
    private = list(net.private_subnets or [str(b) for b in blocks[8 : 8 + n]])
    return public, private


def of(bp: Blueprint) -> Network:
    """The blueprint's network (its defaults when the blueprint says nothing)."""
    return NETWORK.one(bp) or Network()


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    net = of(bp)
    caps = ("CAPABILITY_IAM",) if net.flow_logs else ()
    return [
        StackPlan(
            component=COMPONENT,
            title="VPC, subnets, gateways and routes",
            build=build,
            spec=net,
            source=("network",),
            capabilities=caps,
        )
    ]


def _build_existing(net: Network, ctx: Context) -> None:
    """No network resources: the existing VPC's IDs under cfngen's export names."""
    existing = net.existing
    assert existing is not None
    # CloudFormation needs one resource in a stack; this one does nothing and costs nothing
    ctx.add(cloudformation.WaitConditionHandle("ExistingNetwork"))
    ctx.export(VPC_ID, existing_value(ctx, "VpcId", existing.vpc_id, False), "VPC ID (existing)")
    ctx.export(VPC_CIDR, net.cidr, "VPC CIDR block (as the blueprint gives it)")
    ctx.export(
        PRIVATE_SUBNETS,
        existing_value(ctx, "PrivateSubnetIds", existing.private_subnets, True),
        "Private subnet IDs (existing), comma-separated",
    )
    if existing.public_subnets is not None:
        ctx.export(
            PUBLIC_SUBNETS,
            existing_value(ctx, "PublicSubnetIds", existing.public_subnets, True),
            "Public subnet IDs (existing), comma-separated",
        )


def build(net: Network, ctx: Context) -> None:
    if net.existing is not None:
        _build_existing(net, ctx)
        return
    public, private = subnet_cidrs(net)
    vpc = ctx.add(
        ec2.VPC(
            "Vpc",
            CidrBlock=net.cidr,
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=ctx.name_tag("vpc"),
        )
    )
    igw = ctx.add(ec2.InternetGateway("InternetGateway", Tags=ctx.name_tag("igw")))
    attach = ctx.add(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw)
        )
    )
    public_rt = ctx.add(
        ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc), Tags=ctx.name_tag("public"))
    )
    ctx.add(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=[attach.title],
            RouteTableId=Ref(public_rt),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(igw),
        )
    )
    public_subnets: list[ec2.Subnet] = []
    private_subnets: list[ec2.Subnet] = []
    for i, cidr in enumerate(public):
        az = Select(i, GetAZs(""))
        subnet = ctx.add(
            ec2.Subnet(
                f"PublicSubnet{i + 1}",
                VpcId=Ref(vpc),
                CidrBlock=cidr,
                AvailabilityZone=az,
                MapPublicIpOnLaunch=False,
                Tags=ctx.name_tag(f"public-{i + 1}", Tier="public"),
            )
        )
        public_subnets.append(subnet)
        ctx.add(
            ec2.SubnetRouteTableAssociation(
                f"PublicSubnet{i + 1}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(public_rt),
            )
        )
    nat_count = {"single": 1, "per-az": len(public), "none": 0}[net.nat]
    nats = []
    for i in range(nat_count):
        eip = ctx.add(
            ec2.EIP(
                f"NatEip{i + 1}",
                Domain="vpc",
                DependsOn=[attach.title],
                Tags=ctx.name_tag(f"nat-{i + 1}"),
            )
        )
        nats.append(
            ctx.add(
                ec2.NatGateway(
                    f"NatGateway{i + 1}",
                    AllocationId=GetAtt(eip, "AllocationId"),
                    SubnetId=Ref(public_subnets[i]),
                    Tags=ctx.name_tag(f"nat-{i + 1}"),
                )
            )
        )
    for i, cidr in enumerate(private):
        az = Select(i, GetAZs(""))
        subnet = ctx.add(
            ec2.Subnet(
                f"PrivateSubnet{i + 1}",
                VpcId=Ref(vpc),
                CidrBlock=cidr,
                AvailabilityZone=az,
                MapPublicIpOnLaunch=False,
                Tags=ctx.name_tag(f"private-{i + 1}", Tier="private"),
            )
        )
        private_subnets.append(subnet)
        rt = ctx.add(
            ec2.RouteTable(
                f"PrivateRouteTable{i + 1}", VpcId=Ref(vpc), Tags=ctx.name_tag(f"private-{i + 1}")
            )
        )
        if nats:
            ctx.add(
                ec2.Route(
                    f"PrivateDefaultRoute{i + 1}",
                    RouteTableId=Ref(rt),
                    DestinationCidrBlock="0.0.0.0/0",
                    NatGatewayId=Ref(nats[i % len(nats)]),
                )
            )
        ctx.add(
            ec2.SubnetRouteTableAssociation(
                f"PrivateSubnet{i + 1}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(rt),
            )
        )
    if net.flow_logs:
        _flow_logs(net, vpc, ctx)

    ctx.export(VPC_ID, Ref(vpc), "VPC ID")
    ctx.export(VPC_CIDR, net.cidr, "VPC CIDR block")
    ctx.export(
        PUBLIC_SUBNETS,
        Join(",", [Ref(s) for s in public_subnets]),
        "Public subnet IDs, comma-separated, one per AZ",
    )
    ctx.export(
        PRIVATE_SUBNETS,
        Join(",", [Ref(s) for s in private_subnets]),
        "Private subnet IDs, comma-separated, one per AZ",
    )


def _flow_logs(net: Network, vpc: ec2.VPC, ctx: Context) -> None:
    assert net.flow_logs is not None
    group = ctx.add(
        log_group("FlowLogGroup", net.flow_logs.retention_days, net.flow_logs.kms_key_arn)
    )
    role = ctx.add(
        iam.Role(
            "FlowLogRole",
            AssumeRolePolicyDocument=service_trust("vpc-flow-logs.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="write-flow-logs",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[
                                    awacs_logs.CreateLogStream,
                                    awacs_logs.PutLogEvents,
                                    awacs_logs.DescribeLogStreams,
                                ],
                                Resource=[GetAtt(group, "Arn")],
                            )
                        ],
                    ),
                )
            ],
        )
    )
    ctx.add(
        ec2.FlowLog(
            "FlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType=net.flow_logs.traffic,
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            Tags=ctx.name_tag("flow-log"),
        )
    )


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """The VPC fits AWS's limits and cfngen's subnet plan; subnets fit it and do not overlap."""
    net = of(bp)
    if net.existing is not None:
        return  # the existing VPC's layout is its own
    vpc = ipaddress.IPv4Network(net.cidr)
    if not 16 <= vpc.prefixlen <= 24:
        c.error(
            ("network", "cidr"),
            f"VPC CIDR {net.cidr} is /{vpc.prefixlen}; AWS allows /16 to /28 and cfngen needs "
            "room for two subnets per AZ",
            "use a prefix between /16 and /24, e.g. 10.0.0.0/16",
        )
        return
    n = net.availability_zones
    for kind in ("public_subnets", "private_subnets"):
        given = getattr(net, kind)
        if given is not None and len(given) != n:
            c.error(
                ("network", kind),
                f"{len(given)} subnet(s) given for {n} availability zone(s)",
                f"give exactly {n} CIDRs, one per AZ, or set availability_zones: {len(given)}",
            )
    public, private = subnet_cidrs(net)
    seen: list[tuple[ipaddress.IPv4Network, Path_]] = []
    for kind, cidrs in (("public_subnets", public), ("private_subnets", private)):
        for i, cidr in enumerate(cidrs):
            path: Path_ = ("network", kind, i) if getattr(net, kind) else ("network", "cidr")
            sub = ipaddress.IPv4Network(cidr)
            if not sub.subnet_of(vpc):
                c.error(
                    path,
                    f"subnet {cidr} is not inside the VPC {net.cidr}",
                    f"pick a range inside {net.cidr}",
                )
                continue
            if not 16 <= sub.prefixlen <= 28:
                c.error(
                    path,
                    f"subnet {cidr} is /{sub.prefixlen}; AWS allows /16 to /28",
                    "use a prefix between /16 and /28",
                )
            for other, other_path in seen:
                if sub.overlaps(other):
                    c.error(
                        path,
                        f"subnet {cidr} overlaps {other} ({dotted(other_path)})",
                        "give each subnet its own range",
                    )
            seen.append((sub, path))


NETWORK: Kind[Network] = Kind(
    section="network",
    model=Network,
    description="The VPC.",
    prefix=COMPONENT,
    plan=plan,
    singleton=True,
    default=Network,
    checks=(check,),
    implicit=True,
    order=10,
)
KIND = NETWORK
