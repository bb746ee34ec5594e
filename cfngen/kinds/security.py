"""The security kind: the blueprint's explicit `security_groups`, and the `security` stack that
holds every security group of the environment (explicit and derived) and the rules between them.

All groups live in one stack so that rules may point both ways (A -> B and B -> A) without a
cycle between stacks; group-to-group rules are separate resources for the same reason inside
the template. Components import their group ID from here (`group_id`).

Past `SHARD_SIZE` entries of one blueprint section the stack splits into `security-2`,
`security-3` ... (`Kind.shard_size`, cfngen.kinds.base.place): a group lives in the shard of
the entry that declares it, and a rule between groups of two shards is a resource of the higher
shard, importing the other group's ID, so shards depend only on lower ones.

An `existing` group is not created: its ID (literal, import or SSM parameter) is exported under
the same name, every rule on it is a separate resource, and the stack's
`Metadata.cfngen.existing_security_groups` tells `cfngen verify` which outputs name such groups.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from msgspec import Struct, field
from troposphere import GetAtt, cloudformation, ec2

from cfngen.blueprint.models import Blueprint, EgressRule, IngressRule, SecurityGroup
from cfngen.blueprint.source import Path_, dotted
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import existing_value, waive
from cfngen.kinds import network
from cfngen.kinds.base import Derived, Facts, Kind, Target, shard_index
from cfngen.stacks import logical_id

COMPONENT = "security"


def group_output(group: str) -> str:
    """Output name of a group's ID in the security stack (the only spelling)."""
    return logical_id(group, "security-group-id")


def group_logical_id(group: str) -> str:
    return logical_id(group, "security-group")


SHARD_SIZE = 50
"""Entries of each blueprint section per `security` stack: a service brings its group and two
or three rules, so 50 services with their databases and load balancers stay far under 500
resources and 200 outputs (one output per group)."""

Direction = Literal["Ingress", "Egress"]


class SecuritySpec(Struct, frozen=True):
    groups: dict[str, SecurityGroup]  # the groups this stack creates (or names, existing ones)
    sources: dict[str, Path_] = field(default_factory=dict)  # group -> blueprint entry
    # the group-to-group (and existing groups' CIDR) rules this stack holds: (direction, the
    # group the rule is on, the rule); None: every rule of `groups` (one unsplit stack)
    rules: tuple[tuple[Direction, str, IngressRule | EgressRule], ...] | None = None
    placement: dict[str, str] = field(default_factory=dict)  # group -> its stack (shard)


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


def shard_entries(bp: Blueprint, facts: Facts) -> Iterator[tuple[str, str, str]]:
    """(section, entry, group) of every group, in the order the security stack lists them: a
    group goes to the shard of the blueprint entry that declares it (a service's, say)."""
    for name in facts.groups.groups:
        source = facts.groups.sources.get(name, ())
        section = str(source[0]) if source else ""
        yield section, str(source[1]) if len(source) > 1 else name, name


def group_stack(facts: Facts, group: str) -> str:
    """The `security` stack (shard) that holds a group and exports its ID."""
    return facts.shard(COMPONENT, group)


def group_id(ctx: Context, group: str) -> Any:
    """A group's ID, imported from the security stack that holds it."""
    return ctx.import_value(group_stack(ctx.facts, group), group_output(group))


def _rules(
    groups: dict[str, SecurityGroup],
) -> Iterator[tuple[Direction, str, IngressRule | EgressRule, str | None]]:
    """Every rule that is a resource of its own: (direction, group, rule, peer group or None)."""
    for name, group in groups.items():
        for rule in group.ingress:
            if rule.from_ is not None or group.existing is not None:
                yield "Ingress", name, rule, rule.from_
        for erule in group.egress or []:
            if erule.to is not None:
                yield "Egress", name, erule, erule.to


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    groups = facts.groups.groups
    if not groups:
        return []
    where = dict(facts.shards.get(COMPONENT, {}))
    members: dict[str, dict[str, SecurityGroup]] = {}
    for name, group in groups.items():
        members.setdefault(where.get(name, COMPONENT), {})[name] = group
    sources = dict(facts.groups.sources)
    if len(members) == 1:
        return [_plan(COMPONENT, dict(groups), sources, None, {}, set())]
    # a rule between groups of two shards is a resource of the higher one, which imports the
    # lower one's group ID: shard k depends only on shards before it, never the other way
    rules: dict[str, list[tuple[Direction, str, IngressRule | EgressRule]]] = {
        c: [] for c in members
    }
    imports: dict[str, set[str]] = {c: set() for c in members}
    for direction, name, rule, peer in _rules(dict(groups)):
        own = where.get(name, COMPONENT)
        other = where.get(peer, COMPONENT) if peer is not None else own
        home = max(own, other, key=lambda c: shard_index(c, COMPONENT))
        rules[home].append((direction, name, rule))
        imports[home] |= {own, other} - {home}
    return [
        _plan(
            component,
            held,
            sources,  # a rule keeps its group's entry, in whichever shard it is
            tuple(rules[component]),
            where,
            imports[component],
        )
        for component, held in members.items()
    ]


def _plan(
    component: str,
    groups: dict[str, SecurityGroup],
    sources: dict[str, Path_],
    rules: tuple[tuple[Direction, str, IngressRule | EgressRule], ...] | None,
    placement: dict[str, str],
    imports: set[str],
) -> StackPlan[Any]:
    return StackPlan(
        component=component,
        title="Security groups and the rules between them",
        build=build,
        spec=SecuritySpec(groups=groups, sources=sources, rules=rules, placement=placement),
        depends_on=(
            network.COMPONENT,
            *sorted(imports, key=lambda c: shard_index(c, COMPONENT)),
        ),
        source=("security_groups",),
    )


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

    def peer_id(group: str) -> Any:
        if group in ids:
            return ids[group]
        ids[group] = ctx.import_value(spec.placement[group], group_output(group))
        return ids[group]

    rules = spec.rules
    if rules is None:
        rules = tuple((d, name, rule) for d, name, rule, _ in _rules(spec.groups))
    for direction, name, one in rules:
        source = spec.sources.get(name) or None
        if isinstance(one, IngressRule):
            if one.from_ is not None:
                peer, extra = one.from_, {"SourceSecurityGroupId": peer_id(one.from_)}
            else:  # a CIDR or prefix list on an existing group
                peer, extra = "Cidr" if one.cidr else "PrefixList", _peer_props(one)
            ctx.add(
                ec2.SecurityGroupIngress(
                    unique(_rule_id(name, direction, one, peer)),
                    GroupId=peer_id(name),
                    **extra,
                    **_rule_props(one),
                ),
                source,
            )
        else:
            assert one.to is not None
            ctx.add(
                ec2.SecurityGroupEgress(
                    unique(_rule_id(name, direction, one, one.to)),
                    GroupId=peer_id(name),
                    DestinationSecurityGroupId=peer_id(one.to),
                    **_rule_props(one),
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
    shard_size=SHARD_SIZE,
    shard_entries=shard_entries,
    groups=explicit,
    targets=targets,
    checks=(check,),
    names_components=False,
    implicit=True,
    order=20,
)
KIND = SECURITY_GROUPS
