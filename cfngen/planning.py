"""The planning stage: what the kinds offer each other, computed once per environment.

validate -> plan (facts) -> build -> emit. Semantic checks and builders both read the `Facts`
made here (connection targets, referenceable attributes, routes and their listener rule
priorities, which stack each component lives in, every security group with its rules), so a
check and the builder it protects can never compute them differently, and no kind asks another
kind for anything: they meet here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec.structs

from cfngen.blueprint.models import Blueprint, EgressRule, IngressRule, SecurityGroup
from cfngen.blueprint.source import Path_
from cfngen.kinds.base import (
    Attribute,
    Derived,
    Facts,
    GrantFn,
    Kind,
    Relation,
    RouteTarget,
    Target,
)


def make_facts(bp: Blueprint, kinds: Sequence[Kind[Any]]) -> Facts:
    targets: dict[str, Target] = {}
    attributes: dict[str, dict[str, Attribute]] = {}
    routes: dict[str, list[RouteTarget]] = {}
    stacks: dict[str, str] = {}
    grantors: dict[str, Mapping[str, GrantFn]] = {}
    # shared stacks split by their own entries (ecr, alarms); derived ones once groups exist
    shards = {
        kind.prefix: kind.placement(bp)
        for kind in kinds
        if kind.shard_size is not None and kind.shard_entries is None
    }
    for kind in kinds:
        for target in kind.targets(bp) if kind.targets else ():
            targets.setdefault(target.name, target)
        for name, attrs in (kind.attributes(bp) if kind.attributes else {}).items():
            attributes.setdefault(name, {}).update(attrs)
        for route in kind.routes(bp) if kind.routes else ():
            routes.setdefault(route.load_balancer, []).append(route)
        if kind.names_components and not kind.singleton:
            for name in kind.entries(bp):
                stacks.setdefault(name, shards.get(kind.prefix, {}).get(name) or kind.key(name))
                if kind.grants:
                    grantors.setdefault(name, kind.grants)
    records = [r for kind in kinds if kind.records for r in kind.records(bp)]
    needs: dict[str, Path_] = {}
    for kind in kinds:
        for what, source in kind.needs(bp) if kind.needs else ():
            needs.setdefault(what, source)
    publishers: list[str] = []
    for kind in kinds:
        for principal in kind.alert_publishers(bp) if kind.alert_publishers else ():
            if principal not in publishers:
                publishers.append(principal)
    priorities: dict[tuple[str, int], int] = {}
    for lb_routes in routes.values():
        priorities.update(rule_priorities(lb_routes))
    facts = Facts(
        targets=targets,
        attributes=attributes,
        routes=routes,
        priorities=priorities,
        stacks=stacks,
        groups=Derived(),
        alert_publishers=tuple(publishers),
        records=tuple(records),
        needs=needs,
        links=tuple(link for kind in kinds if kind.links for link in kind.links(bp)),
        grantors=grantors,
        metrics={
            name: source
            for kind in kinds
            if kind.metrics
            for name, source in kind.metrics(bp).items()
        },
        shards=shards,
    )
    providers = [k.groups for k in kinds if k.groups is not None]
    facts = msgspec.structs.replace(facts, groups=collect(bp, facts, providers))
    derived = {
        kind.prefix: kind.placement(bp, facts)
        for kind in kinds
        if kind.shard_size is not None and kind.shard_entries is not None
    }
    return msgspec.structs.replace(facts, shards={**shards, **derived}) if derived else facts


# --- listener rules -------------------------------------------------------------------------------


def _specificity(rt: RouteTarget) -> tuple[int, int, int, str, int]:
    r = rt.route
    has_host, has_path = r.host is not None, r.path is not None
    rank = 0 if has_host and has_path else 1 if has_host else 2
    wildcard = int("*" in (r.path or "") or "*" in (r.host or ""))
    return (rank, wildcard, -len(r.path or ""), rt.service, rt.index)


def rule_priorities(routes: Sequence[RouteTarget]) -> dict[tuple[str, int], int]:
    """(service, route index) -> priority for routes with conditions, most specific first.

    Routes of one load balancer; explicit priorities are kept and skipped by the derived ones.
    """
    ruled = [rt for rt in routes if rt.route.path or rt.route.host]
    fixed = {rt.route.priority for rt in ruled if rt.route.priority is not None}
    out: dict[tuple[str, int], int] = {}
    next_priority = 10
    for rt in sorted(ruled, key=lambda rt: (rt.listener, *_specificity(rt))):
        if rt.route.priority is not None:
            out[(rt.service, rt.index)] = rt.route.priority
            continue
        while next_priority in fixed:
            next_priority += 10
        out[(rt.service, rt.index)] = next_priority
        next_priority += 10
    return out


# --- security groups ------------------------------------------------------------------------------


def collect(
    bp: Blueprint, facts: Facts, providers: Sequence[Callable[[Blueprint, Facts], Derived]]
) -> Derived:
    """Every group of the environment, with the relations folded into their rules.

    The first provider to name a group wins (the blueprint's explicit groups come first).
    """
    groups: dict[str, SecurityGroup] = {}
    sources: dict[str, Path_] = {}
    shadowed: dict[str, Path_] = {}
    relations: list[Relation] = []
    for provider in providers:
        derived = provider(bp, facts)
        for name, group in derived.groups.items():
            if name in groups:
                shadowed.setdefault(name, derived.sources.get(name, ()))
                continue
            groups[name] = group
            sources[name] = derived.sources.get(name, ())
        relations.extend(derived.relations)
    for rel in relations:
        if rel.source not in groups or rel.target not in groups:
            continue  # reported by the semantic checks of the kind that made the relation
        common: dict[str, Any] = {"description": rel.description, "protocol": rel.protocol}
        if rel.port is not None and rel.to_port is not None and rel.to_port != rel.port:
            common["ports"] = f"{rel.port}-{rel.to_port}"
        elif rel.port is not None:
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
    return Derived(groups=groups, relations=relations, sources=sources, shadowed=shadowed)
