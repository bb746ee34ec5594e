"""What services and tasks share: their container settings (`ContainerSettings`) become stack
dependencies, typed values, security group relations, network settings and semantic checks here,
the same way for both kinds. The task definition itself is in cfngen.builders.task_definition,
the containers of a task (views) in cfngen.builders.views. A little over 500 lines: the checks
of the views are the larger half and belong with the dependencies they mirror.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from troposphere import ImportValue, Split, Sub

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.cluster import Cluster
from cfngen.blueprint.models.common import Use
from cfngen.blueprint.models.containers import (
    ComponentValue,
    ComposedValue,
    EnvValue,
    ImportedValue,
    PortMapping,
    Secret,
    Volume,
)
from cfngen.blueprint.models.permissions import Permissions
from cfngen.blueprint.models.services import FARGATE_SIZES, ContainerSettings, fargate_memory_hint
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context
from cfngen.builders.views import ContainerView, check_files, container_views
from cfngen.kinds import network, security
from cfngen.kinds.base import Attribute, Facts, Grant, GrantProblem, GrantRequest, Relation
from cfngen.kinds.cluster import CLUSTER, CLUSTERS
from cfngen.kinds.security import SECURITY_GROUPS
from cfngen.stacks import Output, resolved_export_name

if TYPE_CHECKING:  # the file system kind loads only for blueprints that have one
    from cfngen.blueprint.models.storage import FileSystem


class ResolvedValue(Struct, frozen=True):
    """An environment variable or secret taken by typed reference: the output to import."""

    output: Output
    attribute: Attribute


def _mount_field(view: ContainerView) -> str:
    return "volumes" if view.main else "mounts"


Request = tuple[Path_, GrantRequest, str | None]
"""(where, request, environment variable that receives the used component's address)."""


def use_requests(uses: Sequence[Use], base: Path_) -> list[Request]:
    """The requests of a `uses` list (services, tasks and hosts have one)."""
    return [
        ((*base, "uses", i), GrantRequest(use.component, use.access, use.options()), use.env)
        for i, use in enumerate(uses)
    ]


def grant_requests(c: ContainerSettings, base: Path_) -> list[Request]:
    """Every access a task asks for: its containers' EFS mounts, then its `uses`. Two mounts of
    the same file system through the same access point ask once (read-write if either does)."""
    out: list[Request] = []
    seen: dict[tuple[str, str], int] = {}
    for view in container_views("", c, base):
        for i, mount in enumerate(view.mounts):
            if not isinstance(mount, Volume):
                continue
            access = "read" if mount.read_only else "read-write"
            request = GrantRequest(mount.file_system, access, {"access_point": mount.access_point})
            where = (*view.path, _mount_field(view), i)
            key = (mount.file_system, mount.access_point)
            if key in seen:
                if access == "read-write":
                    index = seen[key]
                    out[index] = (out[index][0], request, None)
                continue
            seen[key] = len(out)
            out.append((where, request, None))
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


def record_uses(
    ctx: Context,
    role: str,
    grants: Sequence[tuple[Path_, GrantRequest, str | None, Grant]],
    base: Path_,
) -> None:
    """Each `uses` entry and EFS mount as an access of `role` for `cfngen verify`
    (manifest.json): the used component's ARN (its `arn` attribute), the access level and its
    options (a bucket prefix, the access point a mount goes through)."""
    for path, request, _, _ in grants:
        arn = ctx.facts.attributes.get(request.component, {}).get("arn")
        if arn is None:
            continue
        prefix = request.options.get("prefix")
        point = request.options.get("access_point")
        through = ""
        if point:  # a mount: the blueprint has file systems
            from cfngen.kinds.file_system import access_point_output

            output = Output(arn.output.component, access_point_output(str(point), "Arn"))
            through = f"export:{resolved_export_name(ctx.env_name, output)}"
        ctx.access(
            role,
            f"uses:{request.access}",
            arn.output,
            (*base, *path),
            component=request.component,
            prefix=str(prefix) if prefix else "",
            access_point=through,
        )


def granted(
    bp: Blueprint, facts: Facts, c: ContainerSettings, base: Path_ = ()
) -> list[tuple[Path_, GrantRequest, str | None, Grant]]:
    """The grants a container's settings ask for."""
    return resolve_grants(bp, facts, grant_requests(c, base))


def path_field(path: Path_) -> str:
    """The field naming the used component in a `volumes`/`mounts` or `uses` entry."""
    return "file_system" if "volumes" in path or "mounts" in path else "component"


def container_dependencies(
    bp: Blueprint,
    facts: Facts,
    base: Path_,
    c: ContainerSettings,
    *,
    awsvpc: bool = True,
    load_balancers: Sequence[tuple[str, Path_]] = (),
    group: str = "",
) -> dict[str, Path_]:
    """Stacks a service or task depends on because of its container settings (and routes);
    `group`: its own security group (awsvpc), imported with the placement's from their stacks."""
    deps: dict[str, Path_] = {
        network.COMPONENT: base,
        CLUSTER: (*base, "capacity"),
    }
    if awsvpc:
        for g in (group, *c.placement.security_groups):
            deps.setdefault(security.group_stack(facts, g), base)
    views = container_views("", c, base)
    for view in views:
        if view.image.repository is not None:
            repo = facts.stack_of(view.image.repository)
            if repo is not None:
                deps.setdefault(repo, (*view.path, "image", "repository"))
    for lb, route_path in load_balancers:
        key = facts.stack_of(lb)
        if key is not None:
            deps.setdefault(key, route_path)
    for path, _, _, grant in granted(bp, facts, c, base):
        for output in grant.imports:
            deps.setdefault(output.component, (*path, path_field(path)))
    refs = [ref for view in views for ref in references(view, view.path)]
    for path, component, attribute, _ in refs + permission_refs(c.permissions, base):
        attr = facts.attributes.get(component, {}).get(attribute)
        if attr is not None:
            deps.setdefault(attr.output.component, (*path, "from"))
    keys = sorted(set(facts.stacks.values()), key=len, reverse=True)
    for path, export in (i for view in views for i in own_imports(view)):
        key = next((k for k in keys if export.startswith(f"{k}-")), None)
        if key is not None:  # an output an override adds to one of this environment's stacks
            deps.setdefault(key, path)
    for i, other in enumerate(c.depends_on):
        key = facts.stack_of(other)
        if key is not None:
            deps.setdefault(key, (*base, "depends_on", i))
    return deps


def references(
    c: ContainerSettings | ContainerView, base: Path_ = ()
) -> list[tuple[Path_, str, str, bool]]:
    """(where, component, attribute, secret) of every typed reference of one container: in its
    environment (directly or inside a composed value) and its secrets."""
    paths = c.value_paths if isinstance(c, ContainerView) else {}

    def where(section: str, var: str) -> Path_:
        return paths.get(var, (*base, section, var))

    out: list[tuple[Path_, str, str, bool]] = []
    for var, value in c.environment.items():
        if isinstance(value, ComponentValue):
            out.append((where("environment", var), value.from_, value.attribute, False))
        elif isinstance(value, ComposedValue):
            for key, ref in value.values.items():
                if isinstance(ref, ComponentValue):
                    at = (*where("environment", var), "values", key)
                    out.append((at, ref.from_, ref.attribute, False))
    for var, secret in c.secrets.items():
        if isinstance(secret, Secret) and secret.from_ is not None and secret.attribute is not None:
            out.append((where("secrets", var), secret.from_, secret.attribute, True))
    return out


def own_imports(view: ContainerView) -> list[tuple[Path_, str]]:
    """(where, export name after `${EnvironmentName}-`) of the `{import: ...}` values of one
    container that name an export of this environment."""
    out: list[tuple[Path_, str]] = []
    prefix = "${EnvironmentName}-"
    for var, value in view.environment.items():
        where = view.value_paths.get(var, (*view.path, "environment", var))
        candidates = [(where, value)]
        if isinstance(value, ComposedValue):
            candidates = [((*where, "values", k), v) for k, v in value.values.items()]
        for at, ref in candidates:
            if isinstance(ref, ImportedValue) and ref.import_.startswith(prefix):
                out.append((at, ref.import_.removeprefix(prefix)))
    return out


def permission_refs(permissions: Permissions, base: Path_) -> list[tuple[Path_, str, str, bool]]:
    """Typed references among the resources of a role's own `permissions` statements."""
    return [
        ((*base, "permissions", "statements", i, "resources", j), r.from_, r.attribute, False)
        for i, st in enumerate(permissions.statements)
        for j, r in enumerate(st.resources)
        if isinstance(r, ComponentValue)
    ]


def resolve_values(facts: Facts, c: ContainerSettings | ContainerView) -> dict[str, ResolvedValue]:
    """One container's secrets and environment variables taken directly by typed reference ->
    the output to import (composed values resolve through `render_value`)."""
    out: dict[str, ResolvedValue] = {}
    direct = [
        (var, v.from_, v.attribute)
        for var, v in c.environment.items()
        if isinstance(v, ComponentValue)
    ]
    direct += [
        (var, s.from_, s.attribute)
        for var, s in c.secrets.items()
        if isinstance(s, Secret) and s.from_ is not None and s.attribute is not None
    ]
    for var, component, attribute in direct:
        attr = facts.attributes.get(component, {}).get(attribute)
        if attr is not None:
            out[var] = ResolvedValue(attr.output, attr)
    return out


def render_value(ctx: Context, value: EnvValue) -> Any:
    """A plain environment value as the template writes it: text, an import of another
    stack's output or of an existing export, or `Fn::Sub` composing them."""
    if isinstance(value, str):
        return value
    if isinstance(value, ComposedValue):
        variables = {key: render_value(ctx, ref) for key, ref in sorted(value.values.items())}
        return Sub(value.format, **variables) if variables else Sub(value.format)
    if isinstance(value, ImportedValue):
        name = value.import_
        return ImportValue(Sub(name) if name.startswith("${") else name)
    attr = ctx.facts.attributes[value.from_][value.attribute]
    return ctx.import_value(attr.output.component, attr.output.name)


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


class AwsvpcSettings(Struct, frozen=True):
    """Where awsvpc tasks run: the values of ECS's and Scheduler's network configuration."""

    subnets: Any
    security_groups: list[Any]
    assign_public_ip: str  # ENABLED | DISABLED


def awsvpc_settings(ctx: Context, group: str, c: ContainerSettings) -> AwsvpcSettings:
    tier = network.PUBLIC_SUBNETS if c.placement.subnets == "public" else network.PRIVATE_SUBNETS
    return AwsvpcSettings(
        subnets=Split(",", ctx.import_value(network.COMPONENT, tier)),
        security_groups=[security.group_id(ctx, g) for g in (group, *c.placement.security_groups)],
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
    for view in container_views("", s, base):
        if view.image.repository is not None:
            from cfngen.kinds.repository import REPOSITORIES, shared_repositories

            repositories = {**shared_repositories(bp), **REPOSITORIES.entries(bp)}
            c.reference(
                (*view.path, "image", "repository"),
                view.image.repository,
                repositories,
                "repository",
            )
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
    groups = SECURITY_GROUPS.entries(bp)
    for i, group in enumerate(s.placement.security_groups):
        c.reference((*base, "placement", "security_groups", i), group, groups, "security group")
    file_systems: dict[str, FileSystem] = bp.file_systems
    views = container_views(name, s, base)
    for view in views:
        for i, mount in enumerate(view.mounts):
            if not isinstance(mount, Volume):
                continue
            where = (*view.path, _mount_field(view), i)
            fs = file_systems.get(mount.file_system)
            if fs is None:
                c.reference((*where, "file_system"), mount.file_system, file_systems, "file system")
            else:
                c.reference(
                    (*where, "access_point"),
                    mount.access_point,
                    fs.access_point_names(),
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
    refs = [ref for view in views for ref in references(view, view.path)]
    refs += permission_refs(s.permissions, base)
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


def check_containers(
    c: Checker,
    name: str,
    s: ContainerSettings,
    base: Path_,
    *,
    fargate: bool,
    ports: Sequence[PortMapping],
) -> None:
    """The containers of one task fit together: unique names and ports, `wait_for` naming
    containers of the task (HEALTHY only with a health check), init containers that may end,
    reservations within the task's size, scratch volumes mounted where they are declared."""
    views = container_views(name, s, base, ports)
    names = {v.name for v in views}
    if name in s.containers:
        c.error(
            (*base, "containers", name),
            f"the main container is named '{name}' already",
            "name the extra container differently",
            at_key=True,
        )
    check_files(s, base, views, c)
    by_name = {v.name: v for v in views}
    owners: dict[int, str] = {}
    for view in views:
        for i, mapping in enumerate(view.ports):
            other = owners.get(mapping.container)
            if other is not None and other != view.name:
                c.error(
                    (*view.path, "ports", i, "container") if not view.main else view.path,
                    f"port {mapping.container} is also container {other}'s (the task's "
                    "containers share one network namespace)",
                    "give each container its own ports",
                )
            owners.setdefault(mapping.container, view.name)
        for other, condition in view.options.wait_for.items():
            where = (*view.path, "wait_for", other)
            if other == view.name:
                c.error(where, "a container cannot wait for itself", "remove it", at_key=True)
            elif other not in names:
                c.reference(where, other, sorted(names - {view.name}), "container")
            elif condition == "HEALTHY" and by_name[other].health_check is None:
                c.error(
                    where,
                    f"container {other} has no health check, so it never becomes HEALTHY",
                    f"give {other} a health_check, or wait for START",
                )
            elif condition in ("COMPLETE", "SUCCESS") and by_name[other].essential:
                c.error(
                    where,
                    f"container {other} is essential: when it exits the task stops, so "
                    f"nothing waits for it to {condition.lower()}",
                    f"set essential: false (or init: true) on {other}",
                )
        if view.init and view.essential:
            c.error(
                (*view.path, "essential"),
                "an init container exits when it is done; as essential it would stop the task",
                "remove `essential: true`",
            )
    reserved_cpu = sum(v.cpu or 0 for v in views)
    if reserved_cpu > s.cpu:
        c.error(
            (*base, "cpu"),
            f"the containers reserve {reserved_cpu} CPU units; the task has {s.cpu}",
            "raise cpu, or lower the containers' cpu",
        )
    reserved_memory = sum(v.memory or 0 for v in views)
    if reserved_memory >= s.memory:
        c.error(
            (*base, "memory"),
            f"the extra containers reserve {reserved_memory} MiB; the task has {s.memory}",
            "raise memory, or lower the containers' memory",
        )
    if s.ephemeral_storage_gb is not None and not fargate:
        c.error(
            (*base, "ephemeral_storage_gb"),
            "task storage size is a Fargate setting",
            "remove it (on EC2 the instance's volume holds the containers)",
        )
