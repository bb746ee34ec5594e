"""Security group rules of a whole environment, and whether they let one group reach another.

Rules are read from groups' inline `SecurityGroupIngress`/`SecurityGroupEgress` and from
`AWS::EC2::SecurityGroupIngress`/`Egress` resources in any stack; both ends are resolved through
imports, so a rule in the security stack and a load balancer in its own stack meet. A group
written without `SecurityGroupEgress` keeps AWS's default allow-all egress. A group the
environment does not create (an existing one: an ID, an SSM parameter, another stack's export)
is an `External` group, known by that value wherever it is imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from cfngen.checks.base import as_dict, as_int, as_list
from cfngen.verify.model import Environment, Missing, Ref, Stack

Direction = Literal["ingress", "egress"]
_ALL = ("-1", "all")
DYNAMIC = (32768, 65535)  # the ECS agent's ephemeral host port range (bridge mode, HostPort 0)


@dataclass(frozen=True)
class External:
    """A security group the environment does not create, by what names it: its ID, the SSM
    parameter it is read from, or `import:<export>` of a stack outside the environment."""

    id: str


Group = Ref | External


def group_of(env: Environment, stack: Stack, value: Any) -> Group | None:
    """The security group a `GroupId`-like value names, through imports; None when unknown."""
    got = env.resolve(stack, value)
    if isinstance(got, Ref):
        return got
    if isinstance(got, str) and got:
        return External(got)
    return External(f"import:{got.name}") if isinstance(got, Missing) else None


def groups_of(env: Environment, stack: Stack, value: Any) -> list[Group]:
    """A `SecurityGroups` list resolved item by item (unknown items left out)."""
    found = [group_of(env, stack, v) for v in (value if isinstance(value, list) else [value])]
    return [g for g in found if g is not None] if value is not None else []


@dataclass(frozen=True)
class Rule:
    direction: Direction
    group: Group
    peer: Any  # the peer group (Ref or External), a CIDR string, or None when unknown
    protocol: str
    low: int
    high: int
    owner: Ref  # the resource that holds the rule


def _rule(
    env: Environment,
    stack: Stack,
    d: Direction,
    group: Group | None,
    body: dict[str, Any],
    owner: Ref,
) -> Rule | None:
    if group is None:
        return None
    protocol = str(env.text(stack, body.get("IpProtocol")) or "").lower()
    peer_key = "SourceSecurityGroupId" if d == "ingress" else "DestinationSecurityGroupId"
    peer: Any
    if body.get(peer_key) is not None:
        peer = group_of(env, stack, body[peer_key])
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


_INLINE: tuple[tuple[Direction, str], ...] = (
    ("ingress", "SecurityGroupIngress"),
    ("egress", "SecurityGroupEgress"),
)
_SEPARATE: tuple[tuple[Direction, str], ...] = (
    ("ingress", "AWS::EC2::SecurityGroupIngress"),
    ("egress", "AWS::EC2::SecurityGroupEgress"),
)


class Rules:
    """Every rule of the environment, by group."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.rules: list[Rule] = []
        self.open_egress: set[Group] = set()  # groups with AWS's default allow-all egress
        self._by_group: dict[tuple[Direction, Group], list[Rule]] | None = None
        for stack, res in env.of_type("AWS::EC2::SecurityGroup"):
            me = Ref(stack.component, res.id)
            if "SecurityGroupEgress" not in res.props:
                self.open_egress.add(me)
            for d, key in _INLINE:
                for body in as_list(res.props.get(key)):
                    found = _rule(env, stack, d, me, as_dict(body), me)
                    if found is not None:
                        self.rules.append(found)
        for d, rtype in _SEPARATE:
            for stack, res in env.of_type(rtype):
                group = group_of(env, stack, res.props.get("GroupId"))
                owner = Ref(stack.component, res.id)
                found = _rule(env, stack, d, group, res.props, owner)
                if found is not None:
                    self.rules.append(found)

    def allows(
        self,
        direction: Direction,
        groups: Iterable[Group],
        peers: Iterable[Group],
        low: int,
        high: int,
        protocol: str = "tcp",
    ) -> bool:
        """Whether rules of `groups` admit `peers` (or any CIDR) on every port low..high."""
        groups, peers = set(groups), set(peers)
        if direction == "egress" and groups & self.open_egress:
            return True
        if self._by_group is None:  # rules by (direction, group): a scan per question was
            self._by_group = {}  # quadratic in the number of services
            for r in self.rules:
                self._by_group.setdefault((r.direction, r.group), []).append(r)
        spans = sorted(
            (r.low, r.high)
            for g in groups
            for r in self._by_group.get((direction, g), ())
            if (r.protocol in _ALL or r.protocol in (protocol, _number(protocol)))
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


def rules_of(env: Environment) -> Rules:
    """The environment's rules, read once however many checks ask."""
    if "rules" not in env.memo:
        env.memo["rules"] = Rules(env)
    rules: Rules = env.memo["rules"]
    return rules


def _number(protocol: str) -> str:
    return {"tcp": "6", "udp": "17"}.get(protocol, protocol)


def ports(low: int, high: int) -> str:
    return f"port {low}" if low == high else f"ports {low}-{high}"
