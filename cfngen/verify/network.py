"""Security group rules of a whole environment, and whether they let one group reach another.

Rules are read from groups' inline `SecurityGroupIngress`/`SecurityGroupEgress` and from
`AWS::EC2::SecurityGroupIngress`/`Egress` resources in any stack; both ends are resolved through
imports, so a rule in the security stack and a load balancer in its own stack meet. A group
written without `SecurityGroupEgress` keeps AWS's default allow-all egress.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from cfngen.checks.base import as_dict, as_int, as_list
from cfngen.verify.model import Environment, Ref, Stack

Direction = Literal["ingress", "egress"]
_ALL = ("-1", "all")
DYNAMIC = (32768, 65535)  # the ECS agent's ephemeral host port range (bridge mode, HostPort 0)


@dataclass(frozen=True)
class Rule:
    direction: Direction
    group: Ref
    peer: Any  # Ref of the peer group, a CIDR string, or None when unknown
    protocol: str
    low: int
    high: int
    owner: Ref  # the resource that holds the rule


def _rule(
    env: Environment, stack: Stack, d: Direction, group: Any, body: dict[str, Any], owner: Ref
) -> Rule | None:
    if not isinstance(group, Ref):
        return None
    protocol = str(env.text(stack, body.get("IpProtocol")) or "").lower()
    peer_key = "SourceSecurityGroupId" if d == "ingress" else "DestinationSecurityGroupId"
    if body.get(peer_key) is not None:
        peer = env.resolve(stack, body[peer_key])
    elif d == "ingress" and body.get("SourceSecurityGroupName") is not None:
        peer = None
    else:
        peer = next(
            (
                env.text(stack, body[k]) or "cidr"
                for k in ("CidrIp", "CidrIpv6", "SourcePrefixListId", "DestinationPrefixListId")
                if body.get(k) is not None
            ),
            None,
        )
    if protocol in _ALL:
        return Rule(d, group, peer, "-1", 0, 65535, owner)
    low, high = (
        as_int(env.text(stack, body.get("FromPort"))),
        as_int(env.text(stack, body.get("ToPort"))),
    )
    if low is None or high is None:
        return None
    return Rule(d, group, peer, protocol, low, high, owner)


class Rules:
    """Every rule of the environment, by group."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.rules: list[Rule] = []
        self.open_egress: set[Ref] = set()  # groups with AWS's default allow-all egress
        for stack, res in env.of_type("AWS::EC2::SecurityGroup"):
            me = Ref(stack.component, res.id)
            if "SecurityGroupEgress" not in res.props:
                self.open_egress.add(me)
            for d, key in (("ingress", "SecurityGroupIngress"), ("egress", "SecurityGroupEgress")):
                for body in as_list(res.props.get(key)):
                    found = _rule(env, stack, d, me, as_dict(body), me)  # type: ignore[arg-type]
                    if found is not None:
                        self.rules.append(found)
        for d, rtype in (
            ("ingress", "AWS::EC2::SecurityGroupIngress"),
            ("egress", "AWS::EC2::SecurityGroupEgress"),
        ):
            for stack, res in env.of_type(rtype):
                group = env.resolve(stack, res.props.get("GroupId"))
                owner = Ref(stack.component, res.id)
                found = _rule(env, stack, d, group, res.props, owner)  # type: ignore[arg-type]
                if found is not None:
                    self.rules.append(found)

    def allows(
        self,
        direction: Direction,
        groups: Iterable[Ref],
        peers: Iterable[Ref],
        low: int,
        high: int,
        protocol: str = "tcp",
    ) -> bool:
        """Whether rules of `groups` admit `peers` (or any CIDR) on every port low..high."""
        groups, peers = set(groups), set(peers)
        if direction == "egress" and groups & self.open_egress:
            return True
        spans = sorted(
            (r.low, r.high)
            for r in self.rules
            if r.direction == direction
            and r.group in groups
            and (r.protocol in _ALL or r.protocol in (protocol, _number(protocol)))
            and (r.peer in peers or isinstance(r.peer, str))
        )
        reach = low
        for a, b in spans:
            if a > reach:
                break
            reach = max(reach, b + 1)
            if reach > high:
                return True
        return reach > high


def _number(protocol: str) -> str:
    return {"tcp": "6", "udp": "17"}.get(protocol, protocol)


def ports(low: int, high: int) -> str:
    return f"port {low}" if low == high else f"ports {low}-{high}"
