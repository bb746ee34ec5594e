"""What services and tasks share: their container settings (`ContainerSettings`) become stack
dependencies, typed values, security group relations, network settings and semantic checks here,
the same way for both kinds. The task definition itself is in cfngen.builders.task_definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from troposphere import Split

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.cluster import Cluster
from cfngen.blueprint.models.common import Use
from cfngen.blueprint.models.services import FARGATE_SIZES, ContainerSettings, fargate_memory_hint
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context
from cfngen.kinds import network, security
from cfngen.kinds.base import Attribute, Facts, Grant, GrantProblem, GrantRequest, Relation
from cfngen.kinds.cluster import CLUSTER, CLUSTERS
from cfngen.kinds.file_system import FILE_SYSTEMS
from cfngen.kinds.repository import REPOSITORIES
from cfngen.stacks import Output


@dataclass(frozen=True)
class ResolvedValue:
    """An environment variable or secret taken by typed reference: the output to import."""

    output: Output
    attribute: Attribute


Request = tuple[Path_, GrantRequest, str | None]
"""(where, request, environment variable that receives the used component's address)."""


def use_requests(uses: Sequence[Use], base: Path_) -> list[Request]:
    """The requests of a `uses` list (services, tasks and hosts have one)."""
    return [
        ((*base, "uses", i), GrantRequest(use.component, use.access, use.options()), use.env)
        for i, use in enumerate(uses)
    ]


def grant_requests(c: ContainerSettings, base: Path_) -> list[Request]:
    """Every access a container asks for: its mounts (`volumes`), then its `uses`."""
    out: list[Request] = []
    for i, vol in enumerate(c.volumes):
        access = "read" if vol.read_only else "read-write"
        options = {"access_point": vol.access_point}
        out.append(((*base, "volumes", i), GrantRequest(vol.file_system, access, options), None))
    return out + use_requests(c.uses, base)


def resolve_grants(
    bp: Blueprint, facts: Facts, requests: Sequence[Request]
) -> list[tuple[Path_, GrantRequest, str | None, Grant]]:
    """The grants of `requests`; requests that cannot be granted are left out (the checks
    report them)."""
    out = []
    for path, request, env in requests:
        try:
            out.append((path, request, env, facts.grant(bp, request)))
        except GrantProblem:
            continue
    return out


def granted(
    bp: Blueprint, facts: Facts, c: ContainerSettings, base: Path_ = ()
) -> list[tuple[Path_, GrantRequest, str | None, Grant]]:
    """The grants a container's settings ask for."""
    return resolve_grants(bp, facts, grant_requests(c, base))


def path_field(path: Path_) -> str:
    """The field naming the used component in a `volumes` or `uses` entry."""
    return "file_system" if "volumes" in path else "component"


def container_dependencies(
    bp: Blueprint,
    facts: Facts,
    base: Path_,
    c: ContainerSettings,
    *,
    awsvpc: bool = True,
    load_balancers: Sequence[tuple[str, Path_]] = (),
) -> dict[str, Path_]:
    """Stacks a service or task depends on because of its container settings (and routes)."""
    deps: dict[str, Path_] = {
        network.COMPONENT: base,
        CLUSTER: (*base, "capacity"),
    }
    if awsvpc:
        deps[security.COMPONENT] = base
    if c.image.repository is not None:
        repo = facts.stack_of(c.image.repository)
        if repo is not None:
            deps[repo] = (*base, "image", "repository")
    for lb, route_path in load_balancers:
        key = facts.stack_of(lb)
        if key is not None:
            deps.setdefault(key, route_path)
    for path, _, _, grant in granted(bp, facts, c, base):
        for output in grant.imports:
            deps.setdefault(output.component, (*path, path_field(path)))
    for var, resolved in resolve_values(facts, c).items():
        where = "environment" if var in c.environment else "secrets"
        deps.setdefault(resolved.output.component, (*base, where, var, "from"))
    for i, other in enumerate(c.depends_on):
        key = facts.stack_of(other)
        if key is not None:
            deps.setdefault(key, (*base, "depends_on", i))
    return deps


def resolve_values(facts: Facts, c: ContainerSettings) -> dict[str, ResolvedValue]:
    """Environment variables and secrets taken by typed reference -> the output to import."""
    out: dict[str, ResolvedValue] = {}
    refs: list[tuple[str, str, str]] = [
        (var, v.from_, v.attribute) for var, v in c.environment.items() if not isinstance(v, str)
    ]
    refs += [
        (var, s.from_, s.attribute)
        for var, s in c.secrets.items()
        if s.from_ is not None and s.attribute is not None
    ]
    for var, comp, attr_name in refs:
        attr = facts.attributes.get(comp, {}).get(attr_name)
        if attr is not None:
            out[var] = ResolvedValue(attr.output, attr)
    return out


def container_relations(
    bp: Blueprint, own: str, label: str, c: ContainerSettings, facts: Facts
) -> list[Relation]:
    """Security group rules a container's `connects_to` and its grants (mounts) need."""
    out = []
    for other in c.connects_to:
        target = facts.targets.get(other)
        if target is None or target.group == own:
            continue
        for port in target.ports:
            out.append(Relation(own, target.group, port, f"{label} to {target.kind} {other}"))
    for _, _, _, grant in granted(bp, facts, c):
        out.extend(grant.relations(own, label))
    return out


def fargate_weights(cluster: Cluster | None) -> tuple[tuple[str, int, int], ...]:
    """The cluster's Fargate / Fargate Spot weights as (provider, weight, base)."""
    weights: list[tuple[str, int, int]] = []
    if cluster is not None:
        if cluster.fargate is not None or (cluster.fargate_spot is None and cluster.uses_fargate):
            f = cluster.fargate
            weights.append(("FARGATE", f.weight if f else 1, f.base if f else 0))
        if cluster.fargate_spot is not None:
            weights.append(("FARGATE_SPOT", cluster.fargate_spot.weight, cluster.fargate_spot.base))
    return tuple(weights)


@dataclass(frozen=True)
class AwsvpcSettings:
    """Where awsvpc tasks run: the values of ECS's and Scheduler's network configuration."""

    subnets: Any
    security_groups: list[Any]
    assign_public_ip: str  # ENABLED | DISABLED


def awsvpc_settings(ctx: Context, group: str, c: ContainerSettings) -> AwsvpcSettings:
    tier = network.PUBLIC_SUBNETS if c.placement.subnets == "public" else network.PRIVATE_SUBNETS
    return AwsvpcSettings(
        subnets=Split(",", ctx.import_value(network.COMPONENT, tier)),
        security_groups=[ctx.import_value(security.COMPONENT, security.group_output(group))],
        assign_public_ip="ENABLED" if c.placement.assign_public_ip else "DISABLED",
    )


# --- checks services and tasks share --------------------------------------------------------------


def check_image_and_size(
    bp: Blueprint,
    facts: Facts,
    c: Checker,
    base: Path_,
    s: ContainerSettings,
    *,
    fargate: bool,
    chooses_capacity: bool = False,
) -> None:
    """The image's repository exists; Fargate sizes fit Fargate's table and the cluster.
    `chooses_capacity`: the entry has a `capacity` field (services do)."""
    if s.image.repository is not None:
        repositories = REPOSITORIES.entries(bp)
        c.reference((*base, "image", "repository"), s.image.repository, repositories, "repository")
    if not fargate:
        return
    if s.cpu not in FARGATE_SIZES:
        c.error(
            (*base, "cpu"),
            f"invalid Fargate CPU {s.cpu}",
            f"use one of {', '.join(map(str, FARGATE_SIZES))}",
        )
    elif s.memory not in FARGATE_SIZES[s.cpu]:
        c.error(
            (*base, "memory"),
            f"invalid Fargate CPU/memory pair: {s.cpu} CPU units take "
            f"{fargate_memory_hint(s.cpu)} MiB of memory, not {s.memory}",
            "change memory, or pick the cpu that fits it",
        )
    cluster = CLUSTERS.one(bp)
    if cluster is not None and not cluster.uses_fargate:
        c.error(
            (*base, "capacity") if chooses_capacity else base,
            "the cluster has no Fargate capacity",
            "add `fargate: {}` to `cluster`"
            + (", or set capacity: ec2" if chooses_capacity else ""),
        )


def check_grants(bp: Blueprint, facts: Facts, c: Checker, requests: Sequence[Request]) -> None:
    """Every requested access exists: a component that can be used, an access level it grants,
    options it takes."""
    for path, request, _ in requests:
        field = path_field(path)
        if request.component not in facts.stacks:
            c.reference((*path, field), request.component, facts.grantors, "usable component")
            continue
        try:
            facts.grant(bp, request)
        except GrantProblem as problem:
            option = problem.option if problem.option != "component" else None
            c.error((*path, option or field), problem.message, problem.fix)


def _is_service(facts: Facts, name: str) -> bool:
    target = facts.targets.get(name)
    return target is not None and target.kind == "service"


def check_relations(
    bp: Blueprint,
    facts: Facts,
    c: Checker,
    base: Path_,
    name: str,
    s: ContainerSettings,
    kind: str,
) -> None:
    """connects_to, volumes, buckets, typed values, depends_on and egress of a container."""
    for i, peer in enumerate(s.connects_to):
        if peer == name:
            c.error((*base, "connects_to", i), f"a {kind} cannot connect to itself", "remove it")
            continue
        c.reference((*base, "connects_to", i), peer, facts.targets, "connection target")
    file_systems = FILE_SYSTEMS.entries(bp)
    for i, vol in enumerate(s.volumes):
        fs = file_systems.get(vol.file_system)
        if fs is None:
            c.reference(
                (*base, "volumes", i, "file_system"), vol.file_system, file_systems, "file system"
            )
        else:
            c.reference(
                (*base, "volumes", i, "access_point"),
                vol.access_point,
                fs.access_points,
                "access point",
            )
    check_grants(bp, facts, c, grant_requests(s, base))
    taken = set(s.environment) | set(s.secrets)
    for i, use in enumerate(s.uses):
        if use.env is not None and use.env in taken:
            c.error(
                (*base, "uses", i, "env"),
                f"{use.env} is already set",
                "give the address another variable name",
            )
        taken.add(use.env or "")
    refs: list[tuple[Path_, str, str, bool]] = [
        ((*base, "environment", var), value.from_, value.attribute, False)
        for var, value in s.environment.items()
        if not isinstance(value, str)
    ]
    refs += [
        ((*base, "secrets", var), secret.from_, secret.attribute, True)
        for var, secret in s.secrets.items()
        if secret.from_ is not None and secret.attribute is not None
    ]
    for path, component, attribute, secret in refs:
        if component == name:
            c.error(
                (*path, "from"),
                f"a {kind} cannot take a value from itself",
                "name another component",
            )
        elif component not in facts.attributes and _is_service(facts, component):
            c.error(
                (*path, "from"),
                f"service '{component}' has no address others can take (it is not registered "
                "in Cloud Map or served through Service Connect)",
                f"set `discovery: true` on services.{component} (and give it a port)",
            )
        else:
            c.value_reference(path, component, attribute, facts.attributes, secret=secret)
    for i, dep in enumerate(s.depends_on):
        if dep == name:
            c.error((*base, "depends_on", i), f"a {kind} cannot depend on itself", "remove it")
        elif facts.stack_of(dep) is None:
            c.reference((*base, "depends_on", i), dep, facts.stacks, "component")
    for i, egress in enumerate(s.egress or []):
        if egress.to is not None:
            c.reference(
                (*base, "egress", i, "to"), egress.to, facts.groups.groups, "security group"
            )
