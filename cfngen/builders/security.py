"""The security stack: every security group of the environment and the rules between them.

All groups live in one stack so that rules may point both ways (A -> B and B -> A) without a
cycle between stacks; group-to-group rules are separate resources for the same reason inside
the template. Components import their group ID from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from troposphere import GetAtt, ec2

from cfngen.blueprint.models import Blueprint, EgressRule, IngressRule, SecurityGroup
from cfngen.blueprint.source import Path_
from cfngen.builders import network
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.stacks import logical_id

COMPONENT = "security"


def group_output(group: str) -> str:
    """Output name of a group's ID in the security stack (the only spelling)."""
    return logical_id(group, "security-group-id")


def group_logical_id(group: str) -> str:
    return logical_id(group, "security-group")


@dataclass(frozen=True)
class Relation:
    """Traffic one group may send to another, derived from a blueprint relation.

    Becomes an ingress rule on `target` from `source`, and an egress rule on `source` to
    `target` when the source's outbound traffic is restricted (its `egress` is a list).
    """

    source: str
    target: str
    port: int | None  # None with protocol "all"
    description: str
    protocol: str = "tcp"


@dataclass(frozen=True)
class Derived:
    """Groups and relations a component kind contributes to the security stack."""

    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    sources: dict[str, Path_] = field(default_factory=dict)  # group -> where it was declared


GroupProvider = Callable[[Blueprint], Derived]
"""A component kind's contribution: e.g. one group per service, rules from `connects_to`."""


@dataclass(frozen=True)
class SecuritySpec:
    groups: dict[str, SecurityGroup]
    sources: dict[str, Path_] = field(default_factory=dict)  # group -> blueprint entry


def _explicit(bp: Blueprint) -> Derived:
    # The blueprint's own waivers of a group are applied with every other blueprint waiver
    # (cfngen.waivers.apply); what a group's `waivers` hold here are the ones its provider made.
    return Derived(
        groups={
            name: group.model_copy(update={"waivers": []})
            for name, group in bp.security_groups.items()
        },
        sources={g: ("security_groups", g) for g in bp.security_groups},
    )


def collect(bp: Blueprint, providers: Sequence[GroupProvider]) -> Derived:
    """Every group of the environment with relations folded into their rules."""
    groups: dict[str, SecurityGroup] = {}
    sources: dict[str, Path_] = {}
    relations: list[Relation] = []
    for provider in (_explicit, *providers):
        derived = provider(bp)
        for name, group in derived.groups.items():
            groups.setdefault(name, group)
            sources.setdefault(name, derived.sources.get(name, ()))
        relations.extend(derived.relations)
    for rel in relations:
        if rel.source not in groups or rel.target not in groups:
            continue  # reported by the semantic checks of the kind that made the relation
        common: dict[str, Any] = {"description": rel.description, "protocol": rel.protocol}
        if rel.port is not None:
            common["port"] = rel.port
        target = groups[rel.target]
        ingress = IngressRule.model_validate({**common, "from": rel.source})
        if ingress not in target.ingress:
            groups[rel.target] = target.model_copy(update={"ingress": [*target.ingress, ingress]})
        source = groups[rel.source]
        if source.egress is not None:
            egress = EgressRule.model_validate({**common, "to": rel.target})
            if egress not in source.egress:
                groups[rel.source] = source.model_copy(update={"egress": [*source.egress, egress]})
    return Derived(groups=groups, relations=relations, sources=sources)


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    from cfngen.builders import GROUP_PROVIDERS

    derived = collect(bp, GROUP_PROVIDERS)
    groups = derived.groups
    if not groups:
        return []
    return [
        StackPlan(
            component=COMPONENT,
            title="Security groups and the rules between them",
            build=build,
            spec=SecuritySpec(groups=groups, sources=derived.sources),
            depends_on=(network.COMPONENT,),
            source=("security_groups",),
        )
    ]


_PROTO = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "all": "-1"}


def _rule_props(rule: IngressRule | EgressRule) -> dict[str, Any]:
    low, high = rule.port_range()
    props: dict[str, Any] = {"IpProtocol": _PROTO[rule.protocol], "Description": rule.description}
    if rule.protocol != "all":
        props["FromPort"] = low
        props["ToPort"] = high
    return props


def _rule_id(group: str, direction: str, rule: IngressRule | EgressRule, peer: str) -> str:
    low, high = rule.port_range()
    ports = "All" if rule.protocol == "all" else (f"{low}" if low == high else f"{low}To{high}")
    proto = "" if rule.protocol == "all" else rule.protocol.capitalize()
    joiner = "From" if direction == "Ingress" else "To"
    return logical_id(group, direction, proto + ports, joiner, peer)


def build(spec: SecuritySpec, ctx: Context) -> None:
    vpc_id = ctx.import_value(network.COMPONENT, network.VPC_ID)
    groups: dict[str, ec2.SecurityGroup] = {}
    used_ids: set[str] = set()

    def unique(base: str) -> str:
        title, n = base, 2
        while title in used_ids:
            title, n = f"{base}{n}", n + 1
        used_ids.add(title)
        return title

    for name, group in spec.groups.items():
        inline_in = []
        for rule in group.ingress:
            if rule.cidr is not None:
                inline_in.append(ec2.SecurityGroupRule(CidrIp=rule.cidr, **_rule_props(rule)))
            elif rule.prefix_list is not None:
                inline_in.append(
                    ec2.SecurityGroupRule(SourcePrefixListId=rule.prefix_list, **_rule_props(rule))
                )
        if group.egress is None:
            inline_out = [
                ec2.SecurityGroupRule(
                    IpProtocol="-1",
                    CidrIp="0.0.0.0/0",
                    Description="All outbound traffic (AWS default, made explicit)",
                )
            ]
        else:
            inline_out = []
            for erule in group.egress:
                if erule.cidr is not None:
                    inline_out.append(
                        ec2.SecurityGroupRule(CidrIp=erule.cidr, **_rule_props(erule))
                    )
                elif erule.prefix_list is not None:
                    inline_out.append(
                        ec2.SecurityGroupRule(
                            DestinationPrefixListId=erule.prefix_list, **_rule_props(erule)
                        )
                    )
            if not inline_out:
                # Any inline egress rule removes AWS's allow-all default; this one matches
                # nothing routable, so only the explicit group rules below remain.
                inline_out.append(
                    ec2.SecurityGroupRule(
                        IpProtocol="icmp",
                        FromPort=252,
                        ToPort=86,
                        CidrIp="255.255.255.255/32",
                        Description="Disallow all traffic (removes the default allow-all egress)",
                    )
                )
        title = group_logical_id(name)
        used_ids.add(title)
        props: dict[str, Any] = {
            "GroupDescription": group.description,
            "VpcId": vpc_id,
            "SecurityGroupEgress": inline_out,
            "Tags": ctx.name_tag(name),
        }
        if inline_in:
            props["SecurityGroupIngress"] = inline_in
        groups[name] = ctx.add(
            waive(ec2.SecurityGroup(title, **props), {w.check: w.reason for w in group.waivers}),
            spec.sources.get(name) or None,
        )

    for name, group in spec.groups.items():
        for rule in group.ingress:
            if rule.from_ is None:
                continue
            ctx.add(
                ec2.SecurityGroupIngress(
                    unique(_rule_id(name, "Ingress", rule, rule.from_)),
                    GroupId=GetAtt(groups[name], "GroupId"),
                    SourceSecurityGroupId=GetAtt(groups[rule.from_], "GroupId"),
                    **_rule_props(rule),
                ),
                spec.sources.get(name) or None,
            )
        for erule in group.egress or []:
            if erule.to is None:
                continue
            ctx.add(
                ec2.SecurityGroupEgress(
                    unique(_rule_id(name, "Egress", erule, erule.to)),
                    GroupId=GetAtt(groups[name], "GroupId"),
                    DestinationSecurityGroupId=GetAtt(groups[erule.to], "GroupId"),
                    **_rule_props(erule),
                ),
                spec.sources.get(name) or None,
            )
    for name in spec.groups:
        ctx.export(group_output(name), GetAtt(groups[name], "GroupId"), f"Security group {name}")
