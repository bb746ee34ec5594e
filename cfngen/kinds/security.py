"""The security kind: the blueprint's explicit `security_groups`, and the `security` stack that
holds every security group of the environment (explicit and derived) and the rules between them.

All groups live in one stack so that rules may point both ways (A -> B and B -> A) without a
cycle between stacks; group-to-group rules are separate resources for the same reason inside
the template. Components import their group ID from here.

An `existing` group is not created: its ID (literal, import or SSM parameter) is exported under
the same name, every rule on it is a separate resource, and the stack's
`Metadata.cfngen.existing_security_groups` tells `cfngen verify` which outputs name such groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from troposphere import GetAtt, cloudformation, ec2

from cfngen.blueprint.models import Blueprint, EgressRule, IngressRule, SecurityGroup
from cfngen.blueprint.source import Path_, dotted
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import existing_value, waive
from cfngen.kinds import network
from cfngen.kinds.base import Derived, Facts, Kind, Target
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
    for gname, group in explicit_groups.items():
        if group.existing is not None and group.existing.ports and gname in facts.stacks:
            c.error(
                ("security_groups", gname),
                f"existing group '{gname}' with `ports` is a connection target, and so is the "
                f"component '{gname}'",
                "rename the group",
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


def _inline_egress(group: SecurityGroup) -> list[ec2.SecurityGroupRule]:
    """An owned group's own egress list: CIDR and prefix-list rules inline (group-to-group rules
    are separate resources)."""
    if group.egress is None:
        return [
            ec2.SecurityGroupRule(
                IpProtocol="-1",
                CidrIp="0.0.0.0/0",
                Description="All outbound traffic (AWS default, made explicit)",
            )
        ]
    inline_out = []
    for erule in group.egress:
        if erule.cidr is not None:
            inline_out.append(ec2.SecurityGroupRule(CidrIp=erule.cidr, **_rule_props(erule)))
        elif erule.prefix_list is not None:
            inline_out.append(
                ec2.SecurityGroupRule(
                    DestinationPrefixListId=erule.prefix_list, **_rule_props(erule)
                )
            )
    if not inline_out:
        # Any inline egress rule removes AWS's allow-all default; this one matches nothing
        # routable, so only the explicit group rules below remain.
        inline_out.append(
            ec2.SecurityGroupRule(
                IpProtocol="icmp",
                FromPort=252,
                ToPort=86,
                CidrIp="255.255.255.255/32",
                Description="Disallow all traffic (removes the default allow-all egress)",
            )
        )
    return inline_out


def _peer_props(rule: IngressRule) -> dict[str, Any]:
    """A CIDR or prefix-list peer as a separate ingress resource's properties (existing groups)."""
    if rule.cidr is not None:
        return {"CidrIp": rule.cidr}
    return {"SourcePrefixListId": rule.prefix_list}


def build(spec: SecuritySpec, ctx: Context) -> None:
    ids: dict[str, Any] = {}  # group -> its ID in this template
    resources: dict[str, ec2.SecurityGroup] = {}
    used_ids: set[str] = set()
    existing_outputs: dict[str, str] = {}

    def unique(base: str) -> str:
        title, n = base, 2
        while title in used_ids:
            title, n = f"{base}{n}", n + 1
        used_ids.add(title)
        return title

    owned = any(g.existing is None for g in spec.groups.values())
    vpc_id = ctx.import_value(network.COMPONENT, network.VPC_ID) if owned else None
    for name, group in spec.groups.items():
        if group.existing is not None:
            # not ours: its ID (literal, import or SSM parameter) is where the rules go
            ids[name] = existing_value(ctx, group_output(name), group.existing.id, False)
            existing_outputs[name] = group_output(name)
            continue
        inline_in = []
        for rule in group.ingress:
            if rule.cidr is not None:
                inline_in.append(ec2.SecurityGroupRule(CidrIp=rule.cidr, **_rule_props(rule)))
            elif rule.prefix_list is not None:
                inline_in.append(
                    ec2.SecurityGroupRule(SourcePrefixListId=rule.prefix_list, **_rule_props(rule))
                )
        title = group_logical_id(name)
        used_ids.add(title)
        props: dict[str, Any] = {
            "GroupDescription": group.description,
            "VpcId": vpc_id,
            "SecurityGroupEgress": _inline_egress(group),
            "Tags": ctx.name_tag(name),
        }
        if inline_in:
            props["SecurityGroupIngress"] = inline_in
        resources[name] = ctx.add(
            waive(ec2.SecurityGroup(title, **props), {w.check: w.reason for w in group.waivers}),
            spec.sources.get(name) or None,
        )
        ids[name] = GetAtt(resources[name], "GroupId")

    for name, group in spec.groups.items():
        source = spec.sources.get(name) or None
        for rule in group.ingress:
            if rule.from_ is not None:
                peer, extra = rule.from_, {"SourceSecurityGroupId": ids[rule.from_]}
            elif group.existing is not None:
                peer, extra = "Cidr" if rule.cidr else "PrefixList", _peer_props(rule)
            else:
                continue  # inline in the group
            ctx.add(
                ec2.SecurityGroupIngress(
                    unique(_rule_id(name, "Ingress", rule, peer)),
                    GroupId=ids[name],
                    **extra,
                    **_rule_props(rule),
                ),
                source,
            )
        for erule in group.egress or []:  # an existing group has none: its owner's egress
            if erule.to is None:
                continue  # inline in the group
            ctx.add(
                ec2.SecurityGroupEgress(
                    unique(_rule_id(name, "Egress", erule, erule.to)),
                    GroupId=ids[name],
                    DestinationSecurityGroupId=ids[erule.to],
                    **_rule_props(erule),
                ),
                source,
            )
    if not ctx.template.resources:
        # a stack needs one resource: only existing groups without rules yet
        ctx.add(cloudformation.WaitConditionHandle("ExistingGroups"))
    if existing_outputs:
        # read by `cfngen verify`: which outputs name groups this stack writes rules on
        ctx.template_metadata["existing_security_groups"] = existing_outputs
    for name in spec.groups:
        suffix = " (existing)" if name in existing_outputs else ""
        ctx.export(group_output(name), ids[name], f"Security group {name}{suffix}")


def targets(bp: Blueprint) -> list[Target]:
    """Existing groups with `ports`: `connects_to` opens those ports on them (a platform's
    shared database, a legacy service)."""
    return [
        Target(name, "security group", name, tuple(g.existing.ports), ("security_groups", name))
        for name, g in SECURITY_GROUPS.entries(bp).items()
        if g.existing is not None and g.existing.ports
    ]


SECURITY_GROUPS: Kind[SecurityGroup] = Kind(
    section="security_groups",
    model=SecurityGroup,
    description="Explicit security groups by name.",
    prefix=COMPONENT,
    plan=plan,
    shared_stack=True,
    groups=explicit,
    targets=targets,
    checks=(check,),
    names_components=False,
    order=20,
)
KIND = SECURITY_GROUPS
