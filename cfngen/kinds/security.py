"""The security kind: the blueprint's explicit `security_groups`, and the `security` stack that
holds every security group of the environment (explicit and derived) and the rules between them.

All groups live in one stack so that rules may point both ways (A -> B and B -> A) without a
cycle between stacks; group-to-group rules are separate resources for the same reason inside
the template. Components import their group ID from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from troposphere import GetAtt, ec2

from cfngen.blueprint.models import Blueprint, EgressRule, IngressRule, SecurityGroup
from cfngen.blueprint.source import Path_, dotted
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.kinds import network
from cfngen.kinds.base import Derived, Facts, Kind
from cfngen.stacks import logical_id

COMPONENT = "security"


def group_output(group: str) -> str:
    """Output name of a group's ID in the security stack (the only spelling)."""
    return logical_id(group, "security-group-id")


def group_logical_id(group: str) -> str:
    return logical_id(group, "security-group")


@dataclass(frozen=True)
class SecuritySpec:
    groups: dict[str, SecurityGroup]
    sources: dict[str, Path_] = field(default_factory=dict)  # group -> blueprint entry


def explicit(bp: Blueprint, facts: Facts) -> Derived:
    """The blueprint's own groups (first of all providers: an explicit group wins).

    Their `waivers` are applied with every other blueprint waiver (cfngen.waivers.apply); what
    a group's `waivers` hold in the security stack are the ones its provider made.
    """
    groups = SECURITY_GROUPS.entries(bp)
    return Derived(
        groups={name: group.model_copy(update={"waivers": []}) for name, group in groups.items()},
        sources={g: ("security_groups", g) for g in groups},
    )


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    groups = facts.groups.groups
    if not groups:
        return []
    return [
        StackPlan(
            component=COMPONENT,
            title="Security groups and the rules between them",
            build=build,
            spec=SecuritySpec(groups=dict(groups), sources=dict(facts.groups.sources)),
            depends_on=(network.COMPONENT,),
            source=("security_groups",),
        )
    ]


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Explicit groups do not take a derived group's name; rules name groups that exist."""
    explicit_groups = SECURITY_GROUPS.entries(bp)
    for name, source in facts.groups.shadowed.items():
        if name in explicit_groups:
            c.error(
                ("security_groups", name),
                f"security group name '{name}' is also the group cfngen derives for "
                f"{dotted(source)}",
                "rename the explicit group",
                at_key=True,
            )
    names = set(facts.groups.groups)
    for gname, group in explicit_groups.items():
        for i, ing in enumerate(group.ingress):
            if ing.from_ is not None:
                c.reference(
                    ("security_groups", gname, "ingress", i, "from"),
                    ing.from_,
                    names,
                    "security group",
                )
        for i, eg in enumerate(group.egress or []):
            if eg.to is not None:
                c.reference(
                    ("security_groups", gname, "egress", i, "to"), eg.to, names, "security group"
                )


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


SECURITY_GROUPS: Kind[SecurityGroup] = Kind(
    section="security_groups",
    model=SecurityGroup,
    description="Explicit security groups by name.",
    prefix=COMPONENT,
    plan=plan,
    shared_stack=True,
    groups=explicit,
    checks=(check,),
    names_components=False,
    order=20,
)
KIND = SECURITY_GROUPS
