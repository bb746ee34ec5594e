"""Network: what the internet can reach, rule descriptions, public IPs on subnets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfngen.checks.base import (
    Hit,
    Resource,
    TemplateView,
    as_bool,
    as_dict,
    as_int,
    as_list,
    branches,
    check,
)

ADMIN_AND_DATA_PORTS = {
    22: "SSH",
    3389: "RDP",
    5432: "PostgreSQL",
    3306: "MySQL",
    1433: "SQL Server",
    1521: "Oracle",
    6379: "Redis",
    11211: "Memcached",
    27017: "MongoDB",
    9200: "OpenSearch",
    2049: "NFS",
}
_OPEN = ("0.0.0.0/0", "::/0")
_ALL_PROTOCOLS = ("-1", "all")
_ICMP = ("icmp", "icmpv6", "1", "58")


@dataclass(frozen=True)
class Ingress:
    """One ingress rule from anywhere on the internet, on the group `group`."""

    group: str  # logical id of the group when known in this template, else ""
    owner: str  # logical id of the resource that holds the rule
    protocol: str
    low: int
    high: int
    peer: str

    @property
    def ports(self) -> str:
        if self.protocol in _ALL_PROTOCOLS:
            return "all ports"
        return f"port {self.low}" if self.low == self.high else f"ports {self.low}-{self.high}"

    def covers(self, port: int) -> bool:
        return self.protocol in _ALL_PROTOCOLS or self.low <= port <= self.high


def _open(rule: dict[str, Any], group: str, owner: str) -> Ingress | None:
    peer = next((p for p in (rule.get("CidrIp"), rule.get("CidrIpv6")) if p in _OPEN), None)
    if peer is None:
        return None
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in _ICMP:
        return None
    low, high = as_int(rule.get("FromPort")), as_int(rule.get("ToPort"))
    if protocol in _ALL_PROTOCOLS or low == -1 or high == -1:
        return Ingress(group, owner, "-1", 0, 65535, peer)
    if low is None or high is None:
        return None  # a parameter or an intrinsic: the port is not known here
    return Ingress(group, owner, protocol, low, high, peer)


def internet_ingress(t: TemplateView) -> Iterator[Ingress]:
    """Every rule of the template that admits the whole internet."""
    for res in t.of_type("AWS::EC2::SecurityGroup"):
        for rule in branches(res.props.get("SecurityGroupIngress")):
            found = _open(as_dict(rule), res.id, res.id)
            if found is not None:
                yield found
    for res in t.of_type("AWS::EC2::SecurityGroupIngress"):
        target = t.target(res.props.get("GroupId"), "AWS::EC2::SecurityGroup")
        found = _open(res.props, target.id if target else "", res.id)
        if found is not None:
            yield found


def _admin_ports(rule: Ingress) -> list[str]:
    return [f"{what} port {p}" for p, what in ADMIN_AND_DATA_PORTS.items() if rule.covers(p)]


@check(
    "CFG006",
    "Database, cache, file system or admin port open to the internet",
    why="Databases, caches, NFS, SSH and RDP are the first things scanners try; they are "
    "reached from other security groups or Session Manager, never from 0.0.0.0/0.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-19",
)
def open_admin_ports(t: TemplateView) -> Iterator[Hit]:
    for rule in internet_ingress(t):
        ports = _admin_ports(rule)
        if len(ports) > 1:  # one rule, one finding: "all ports" is one mistake, not eleven
            yield (
                rule.owner,
                (
                    f"{', '.join(ports[:-1])} and {ports[-1]} are open to the internet "
                    f"({rule.peer}, {'all ports' if rule.protocol == '-1' else 'one rule'})"
                ),
            )
        elif ports:
            yield rule.owner, f"{ports[0]} is open to the internet ({rule.peer})"


def _public_balancer_ports(t: TemplateView) -> dict[str, set[int]]:
    """Group logical id -> listener ports of the internet-facing load balancers it guards (in
    this template, or in another of the environment: `t.public_groups`)."""
    listeners: dict[str, set[int]] = {}
    for res in t.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        lb = t.target(res.props.get("LoadBalancerArn"))
        port = as_int(res.props.get("Port"))
        if lb is not None and port is not None:
            listeners.setdefault(lb.id, set()).add(port)
    ports: dict[str, set[int]] = {k: set(v) for k, v in t.public_groups.items()}
    for lb in t.of_type(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancing::LoadBalancer"
    ):
        if t.resolved(lb.props.get("Scheme", "internet-facing")) != "internet-facing":
            continue
        own = listeners.get(lb.id) or {80, 443}
        if lb.type == "AWS::ElasticLoadBalancing::LoadBalancer":
            own = {
                p
                for p in (
                    as_int(as_dict(x).get("LoadBalancerPort"))
                    for x in as_list(lb.props.get("Listeners"))
                )
                if p
            } or own
        for group in as_list(lb.props.get("SecurityGroups")):
            target = t.target(group, "AWS::EC2::SecurityGroup")
            if target is not None:
                ports.setdefault(target.id, set()).update(own)
    return ports


def _within(rule: Ingress, allowed: set[int]) -> bool:
    if rule.protocol in _ALL_PROTOCOLS or rule.high - rule.low > 16:
        return False
    return all(p in allowed for p in range(rule.low, rule.high + 1))


@check(
    "CFG013",
    "Internet ingress to something other than a public load balancer's listener ports",
    why="Only internet-facing load balancers take traffic from 0.0.0.0/0, and only on their "
    "listener ports; everything behind them accepts traffic from their security group.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-18",
)
def internet_ingress_outside_balancers(t: TemplateView) -> Iterator[Hit]:
    public = _public_balancer_ports(t)
    by_owner: dict[tuple[str, str], list[Ingress]] = {}
    for rule in internet_ingress(t):
        if _admin_ports(rule):
            continue  # CFG006 reports it
        if _within(rule, public.get(rule.group, set())):
            continue
        by_owner.setdefault((rule.owner, rule.group), []).append(rule)
    for (owner, group), rules in by_owner.items():
        ports = ", ".join(dict.fromkeys(r.ports.removeprefix("port ") for r in rules))
        peers = " and ".join(sorted({r.peer for r in rules}))
        if group in public:
            where = "is an internet-facing load balancer's group, but these are not its listeners"
        else:
            where = "is not the group of an internet-facing load balancer in this template"
        yield owner, f"accepts {ports} from anywhere ({peers}) and {where}"


@check(
    "CFG012",
    "Security group rule without a description",
    why="A rule without a description cannot be reviewed: nobody can tell why it exists or "
    "whether it can go.",
    source="https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    severity="warning",
)
def rule_descriptions(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::EC2::SecurityGroup"):
        for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
            rules = [r for r in as_list(res.props.get(key)) if as_list(r)]  # not Fn::If, Ref
            missing = sum(1 for r in rules if not as_dict(r).get("Description"))
            if missing:
                yield res.id, f"{missing} rule(s) in {key} without a Description"
    for res in t.of_type("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        if not res.props.get("Description"):
            yield res.id, "the rule has no Description"


def _hosts_in(t: TemplateView, subnet: Resource) -> list[str]:
    """Instances or Auto Scaling groups of this template placed in `subnet` with a public IP."""
    found = []
    for res in t.of_type("AWS::EC2::Instance"):
        nics = [as_dict(n) for n in as_list(res.props.get("NetworkInterfaces"))]
        placed = [res.props.get("SubnetId")] + [n.get("SubnetId") for n in nics]
        opted_out = any(as_bool(n.get("AssociatePublicIpAddress")) is False for n in nics)
        if any(t.target(s) is subnet for s in placed) and not opted_out:
            found.append(res.id)
    for res in t.of_type("AWS::AutoScaling::AutoScalingGroup"):
        if any(t.target(s) is subnet for s in as_list(res.props.get("VPCZoneIdentifier"))):
            lt = t.target(as_dict(res.props.get("LaunchTemplate")).get("LaunchTemplateId"))
            data = as_dict(lt.props.get("LaunchTemplateData")) if lt else {}
            nics = [as_dict(n) for n in as_list(data.get("NetworkInterfaces"))]
            if not any(as_bool(n.get("AssociatePublicIpAddress")) is False for n in nics):
                found.append(res.id)
    return found


@check(
    "CFG011",
    "Subnet assigns public IPs that no host needs",
    why="With MapPublicIpOnLaunch every instance or task started in the subnet gets an internet "
    "address, whether or not anyone meant it to be reachable.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-15",
)
def public_ip_subnets(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::EC2::Subnet"):
        if as_bool(res.props.get("MapPublicIpOnLaunch")) and not _hosts_in(t, res):
            yield (
                res.id,
                "the subnet gives every launch a public IP but no host in this template needs one",
            )


@check(
    "CFG018",
    "Network load balancer ignores its security group for PrivateLink traffic",
    why="With EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic off, traffic from VPC links "
    "and endpoints bypasses the load balancer's inbound rules; anything that can reach the "
    "endpoint service reaches the targets.",
    source="https://docs.aws.amazon.com/elasticloadbalancing/latest/network/"
    "load-balancer-security-groups.html",
    severity="warning",
)
def privatelink_bypass(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::ElasticLoadBalancingV2::LoadBalancer"):
        flag = res.props.get("EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic")
        if isinstance(flag, str) and flag.lower() == "off":
            yield (
                res.id,
                "PrivateLink traffic (e.g. an API Gateway VPC link) skips the "
                "security group's inbound rules",
            )
