"""Wiring: every network relation the blueprint declares is permitted by the security groups.

`manifest.json` records the relations (`connects_to`, volumes, `uses` that open a port, routes
from load balancers, APIs' VPC links): from which group to which, on which ports, declared
where. The relation says what to prove; the proof reads only the templates: the target group's
ingress admits the source group and the source group's egress lets it out, on every port, with
both groups found through imports wherever they are defined.
"""

from __future__ import annotations

from collections.abc import Iterator

from cfngen.checks.base import as_dict, as_list, check
from cfngen.verify.model import Environment, Ref
from cfngen.verify.network import Group, group_of, ports, rules_of

EnvHit = tuple[str, str, str, str]  # (component, logical id, message, blueprint path)


def _groups_by_name(env: Environment) -> dict[str, Group]:
    """Group name -> the group, by the Name tag cfngen writes (`<environment>-<group>`), and the
    existing groups a stack lists in `Metadata.cfngen.existing_security_groups` (name -> the
    output holding the group's ID)."""
    out: dict[str, Group] = {}
    for stack, res in env.of_type("AWS::EC2::SecurityGroup"):
        for tag in as_list(res.props.get("Tags")):
            tag = as_dict(tag)
            name = env.text(stack, tag.get("Value")) if tag.get("Key") == "Name" else None
            if name and name.startswith(f"{env.name}-"):
                out.setdefault(name.removeprefix(f"{env.name}-"), Ref(stack.component, res.id))
    for stack in env.stacks.values():
        meta = as_dict(as_dict(as_dict(stack.template).get("Metadata")).get("cfngen"))
        for name, output in as_dict(meta.get("existing_security_groups")).items():
            value = as_dict(stack.view.outputs.get(str(output))).get("Value")
            group = group_of(env, stack, value) if value is not None else None
            if group is not None:
                out.setdefault(str(name), group)
    return out


def _span(text: str) -> tuple[int, int] | None:
    if text == "all":
        return 0, 65535
    low, _, high = text.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        return None
    return int(low), int(high or low)


def _where(env: Environment, group: Group) -> tuple[str, str]:
    """Where a finding about a group goes: its resource, or for an existing group the stack
    output that names it."""
    if isinstance(group, Ref):
        return group.component, group.id
    for stack in env.stacks.values():
        meta = as_dict(as_dict(as_dict(stack.template).get("Metadata")).get("cfngen"))
        for output in as_dict(meta.get("existing_security_groups")).values():
            value = as_dict(stack.view.outputs.get(str(output))).get("Value")
            if value is not None and group_of(env, stack, value) == group:
                return stack.component, str(output)
    return "", ""


@check(
    "CFG023",
    "Security groups do not permit a declared relation",
    why="`connects_to`, a volume, a `uses` grant or a route declares that one component reaches "
    "another on a port; if the target's group does not admit the source's group, or the "
    "source's restricted egress does not let it out, connections time out at runtime.",
    source="https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    scope="environment",
)
def relations_permitted(env: Environment) -> Iterator[EnvHit]:
    if not env.relations:
        return
    rules, groups = rules_of(env), _groups_by_name(env)
    for rel in env.relations:
        span = _span(rel.get("ports", ""))
        src, dst = groups.get(rel.get("from", "")), groups.get(rel.get("to", ""))
        if span is None or src is None or dst is None:
            continue  # a group the environment does not render: reported by CFG020 and render
        protocol = "-1" if rel.get("ports") == "all" else rel.get("protocol", "tcp")
        what = f"{rel.get('description')}: {ports(*span)}"
        if not rules.allows("ingress", [dst], [src], *span, protocol=protocol):
            yield (
                *_where(env, dst),
                (
                    f"{what} is not admitted: group {rel.get('to')} has no ingress from "
                    f"{rel.get('from')}"
                ),
                rel.get("source", ""),
            )
        if not rules.allows("egress", [src], [dst], *span, protocol=protocol):
            yield (
                *_where(env, src),
                (f"{what} cannot leave: group {rel.get('from')} has no egress to {rel.get('to')}"),
                rel.get("source", ""),
            )
