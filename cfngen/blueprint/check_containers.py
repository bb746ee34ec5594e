"""Semantic checks of the container and traffic kinds: every reference between components
resolves, and each setting fits the component it is used with (Fargate sizes, NLB vs ALB
rules, VPC link targets). Each error names the field that is wrong and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.services import (
    FARGATE_SIZES,
    ContainerSettings,
    fargate_memory_hint,
)
from cfngen.blueprint.source import Path_

if TYPE_CHECKING:
    from cfngen.blueprint.validate import Checker


def check_services(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders.containers import container_port
    from cfngen.builders.relations import attributes, targets

    known_targets = targets(bp)
    attrs = attributes(bp)
    cluster = bp.cluster
    nlb_listeners: dict[tuple[str, int], Path_] = {}
    alb_rules: dict[tuple[str, int, str | None, str | None], Path_] = {}
    connect_names: dict[str, Path_] = {}
    for name, svc in bp.services.items():
        base: Path_ = ("services", name)
        check_image_and_size(bp, c, base, svc, fargate=svc.capacity == "fargate")
        if svc.capacity == "ec2" and (cluster is None or cluster.ec2 is None):
            c.error(
                (*base, "capacity"),
                "the cluster has no EC2 capacity",
                "add `ec2: {instance_type: ...}` to `cluster`",
            )
        container_ports = [m.container for m in svc.port_mappings]
        for i, route in enumerate(svc.routes):
            rpath: Path_ = (*base, "routes", i)
            lb = bp.load_balancers.get(route.load_balancer)
            if lb is None:
                c.reference(
                    (*rpath, "load_balancer"),
                    route.load_balancer,
                    bp.load_balancers,
                    "load balancer",
                )
                continue
            port = container_port(svc, route)
            if port is None:
                c.error(rpath, "a routed service needs a port", "add `port:` to the service")
                continue
            if port not in container_ports:
                c.error(
                    (*rpath, "port"),
                    f"port {port} is not one of the service's ports",
                    f"use one of {', '.join(map(str, container_ports))}",
                )
            if lb.type == "network":
                for key in ("path", "host"):
                    if getattr(route, key) is not None:
                        c.error(
                            (*rpath, key),
                            f"{key} rules need an application load balancer; "
                            f"'{route.load_balancer}' is a network load balancer",
                            f"remove `{key}` and route by `listener` port",
                        )
                ports = [lst.port for lst in lb.listeners]
                if route.listener is None:
                    c.error(
                        rpath,
                        "a route to a network load balancer needs `listener`",
                        f"one of its listener ports: {', '.join(map(str, ports))}",
                    )
                elif route.listener not in ports:
                    c.error(
                        (*rpath, "listener"),
                        f"load balancer '{route.load_balancer}' has no listener on port "
                        f"{route.listener}",
                        f"use one of {', '.join(map(str, ports))}",
                    )
                else:
                    key2 = (route.load_balancer, route.listener)
                    if key2 in nlb_listeners:
                        c.error(
                            (*rpath, "listener"),
                            f"listener {route.listener} of '{route.load_balancer}' already "
                            f"forwards to {'.'.join(map(str, nlb_listeners[key2][:2]))}",
                            "a network load balancer listener has one target; add a listener",
                        )
                    else:
                        nlb_listeners[key2] = rpath
            else:
                listener = route.listener or lb.main_port
                if listener != lb.main_port:
                    c.error(
                        (*rpath, "listener"),
                        f"load balancer '{route.load_balancer}' forwards on port "
                        f"{lb.main_port} only"
                        + (" (port 80 redirects to HTTPS)" if lb.https else ""),
                        f"remove `listener` or set it to {lb.main_port}",
                    )
                rule = (route.load_balancer, listener, route.host, route.path)
                if rule in alb_rules:
                    other = alb_rules[rule]
                    what = "default route" if not (route.host or route.path) else "rule"
                    c.error(
                        rpath,
                        f"the same {what} is already routed to {'.'.join(map(str, other[:2]))}",
                        "give one of them a different path or host",
                    )
                else:
                    alb_rules[rule] = rpath
            if route.health_check.protocol == "TCP" and lb.type == "application":
                c.error(
                    (*rpath, "health_check", "protocol"),
                    "application load balancer health checks are HTTP or HTTPS",
                    "use protocol: HTTP",
                )
        check_relations(bp, c, base, name, svc, "service", known_targets, attrs)
        if svc.placement.assign_public_ip and svc.capacity == "ec2":
            c.error(
                (*base, "placement", "assign_public_ip"),
                "tasks on EC2 capacity cannot get public IPs (only Fargate tasks can)",
                "use capacity: fargate, or assign_public_ip: false",
            )
        if svc.service_connect is not None:
            for i, alias in enumerate(svc.service_connect.aliases):
                dns_name = alias.dns_name or name
                apath: Path_ = (*base, "service_connect", "aliases", i)
                if dns_name in connect_names:
                    c.error(
                        apath,
                        f"Service Connect name '{dns_name}' is already served by "
                        f"{'.'.join(map(str, connect_names[dns_name][:2]))}",
                        "give the alias another dns_name",
                    )
                else:
                    connect_names[dns_name] = apath
                if alias.port not in container_ports:
                    c.error(
                        (*base, "service_connect", "aliases", i, "port"),
                        f"port {alias.port} is not one of the service's ports",
                        f"use one of {', '.join(map(str, container_ports)) or '(none: add ports)'}",
                    )
        if svc.discovery and svc.service_connect is not None and svc.service_connect.aliases:
            c.error(
                (*base, "discovery"),
                "a service served through Service Connect registers in Cloud Map already; "
                "a second (DNS) registration under the same name would collide",
                "remove `discovery`, or make the service a Service Connect client only",
            )
        if svc.discovery and svc.network_mode != "awsvpc":
            c.error(
                (*base, "discovery"),
                "Cloud Map DNS registration needs awsvpc network mode",
                "use service_connect, or network_mode: awsvpc",
            )


def check_image_and_size(
    bp: Blueprint, c: Checker, base: Path_, s: ContainerSettings, *, fargate: bool
) -> None:
    """The image's repository exists; Fargate sizes fit Fargate's table and the cluster."""
    if s.image.repository is not None:
        c.reference(
            (*base, "image", "repository"), s.image.repository, bp.repositories, "repository"
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
    if bp.cluster is not None and not bp.cluster.uses_fargate:
        c.error(
            (*base, "capacity") if base[0] == "services" else base,
            "the cluster has no Fargate capacity",
            "add `fargate: {}` to `cluster`"
            + (", or set capacity: ec2" if base[0] == "services" else ""),
        )


def check_relations(
    bp: Blueprint,
    c: Checker,
    base: Path_,
    name: str,
    svc: ContainerSettings,
    kind: str,
    known_targets: Mapping[str, Any],
    attrs: Mapping[str, Mapping[str, Any]],
) -> None:
    """connects_to, volumes, buckets, typed values, depends_on and egress of a container."""
    from cfngen.builders.service import component_stack

    for i, peer in enumerate(svc.connects_to):
        if peer == name:
            c.error((*base, "connects_to", i), f"a {kind} cannot connect to itself", "remove it")
            continue
        c.reference((*base, "connects_to", i), peer, known_targets, "connection target")
    for i, vol in enumerate(svc.volumes):
        fs = bp.file_systems.get(vol.file_system)
        if fs is None:
            c.reference(
                (*base, "volumes", i, "file_system"),
                vol.file_system,
                bp.file_systems,
                "file system",
            )
        else:
            c.reference(
                (*base, "volumes", i, "access_point"),
                vol.access_point,
                fs.access_points,
                "access point",
            )
    for i, access in enumerate(svc.buckets):
        c.reference((*base, "buckets", i, "bucket"), access.bucket, bp.buckets, "bucket")
    refs: list[tuple[Path_, str, str, bool]] = [
        ((*base, "environment", var), value.from_, value.attribute, False)
        for var, value in svc.environment.items()
        if not isinstance(value, str)
    ]
    refs += [
        ((*base, "secrets", var), secret.from_, secret.attribute, True)
        for var, secret in svc.secrets.items()
        if secret.from_ is not None and secret.attribute is not None
    ]
    for path, component, attribute, secret in refs:
        if component == name:
            c.error(
                (*path, "from"),
                f"a {kind} cannot take a value from itself",
                "name another component",
            )
        elif component in bp.services and component not in attrs:
            c.error(
                (*path, "from"),
                f"service '{component}' has no address others can take (it is not registered "
                "in Cloud Map or served through Service Connect)",
                f"set `discovery: true` on services.{component} (and give it a port)",
            )
        else:
            _value_ref(c, path, component, attribute, attrs, secret=secret)
    for i, dep in enumerate(svc.depends_on):
        if dep == name:
            c.error((*base, "depends_on", i), f"a {kind} cannot depend on itself", "remove it")
        elif component_stack(bp, dep) is None:
            known = set(bp.services) | set(bp.tasks) | set(known_targets) | set(attrs)
            c.reference((*base, "depends_on", i), dep, known, "component")
    for i, egress in enumerate(svc.egress or []):
        if egress.to is not None:
            _group_ref(bp, c, (*base, "egress", i, "to"), egress.to)


def _group_ref(bp: Blueprint, c: Checker, path: Path_, name: str) -> None:
    from cfngen.builders import GROUP_PROVIDERS

    names = set(bp.security_groups)
    for provider in GROUP_PROVIDERS:
        names |= set(provider(bp).groups)
    c.reference(path, name, names, "security group")


def _value_ref(
    c: Checker,
    path: Path_,
    component: str,
    attribute: str,
    attrs: Mapping[str, Mapping[str, Any]],
    *,
    secret: bool,
) -> None:
    if component not in attrs:
        c.reference((*path, "from"), component, attrs, "component with attributes")
        return
    provided = attrs[component]
    if attribute not in provided:
        c.reference((*path, "attribute"), attribute, provided, f"attribute of '{component}'")
        return
    kind = getattr(provided[attribute], "kind", "value")
    if secret and kind != "secret_arn":
        c.error(
            (*path, "attribute"),
            f"'{component}.{attribute}' is a plain value, not a secret",
            "move it to `environment`, or use a secret_arn attribute",
        )
    if not secret and kind == "secret_arn":
        c.error(
            (*path, "attribute"),
            f"'{component}.{attribute}' is a secret; secrets never go into the environment",
            "move it to `secrets`",
        )


def check_rule_priorities(bp: Blueprint, c: Checker) -> None:
    """Two listener rules of one load balancer may not share a priority (CloudFormation would
    fail the second stack with "Priority N is currently in use")."""
    from cfngen.builders.containers import routes_to
    from cfngen.builders.load_balancer import rule_priorities

    for name, lb in bp.load_balancers.items():
        if lb.type != "application":
            continue
        routes = list(routes_to(bp, name))
        priorities = rule_priorities(routes)
        taken: dict[int, str] = {}
        for rt in routes:
            priority = priorities.get((rt.service, rt.index))
            if priority is None:
                continue
            here = f"services.{rt.service}.routes[{rt.index}]"
            if priority in taken:
                c.error(
                    ("services", rt.service, "routes", rt.index, "priority"),
                    f"priority {priority} on load balancer {name} is also {taken[priority]}'s",
                    "give this route another priority, or none (cfngen numbers routes itself)",
                )
            taken.setdefault(priority, here)
        for host_name, host in bp.hosts.items():
            tg = host.target_group
            if tg is None or tg.load_balancer != name:
                continue
            other = taken.get(tg.priority)
            if other is not None:
                c.error(
                    ("hosts", host_name, "target_group", "priority"),
                    f"priority {tg.priority} on load balancer {name} is also {other}'s",
                    "give this rule another priority",
                )
            taken.setdefault(tg.priority, f"hosts.{host_name}.target_group")


def check_load_balancers(bp: Blueprint, c: Checker) -> None:
    from cfngen.builders.containers import routes_to

    for name, lb in bp.load_balancers.items():
        if lb.type != "network":
            continue
        used = {rt.listener for rt in routes_to(bp, name)}
        for i, lst in enumerate(lb.listeners):
            if lst.port not in used:
                c.error(
                    ("load_balancers", name, "listeners", i, "port"),
                    f"no service is routed to listener {lst.port}",
                    f"add a route {{load_balancer: {name}, listener: {lst.port}}} to a "
                    "service, or remove the listener",
                )


def check_apis(bp: Blueprint, c: Checker) -> None:
    for name, api in bp.apis.items():
        base: Path_ = ("apis", name)
        lb = bp.load_balancers.get(api.load_balancer)
        if lb is None:
            c.reference(
                (*base, "load_balancer"), api.load_balancer, bp.load_balancers, "load balancer"
            )
            continue
        if api.type == "rest" and lb.type != "network":
            c.error(
                (*base, "load_balancer"),
                "a REST API VPC link (AWS::ApiGateway::VpcLink) targets network load balancers "
                f"only; '{api.load_balancer}' is an application load balancer",
                "point it at a network load balancer, or use type: http",
            )
        if api.type == "http" and lb.https and api.server_name is None:
            c.error(
                base,
                f"'{api.load_balancer}' listens on HTTPS; API Gateway must verify its "
                "certificate by name",
                "add server_name: <a name on the load balancer's certificate>",
            )
        ports = lb.listener_ports() if lb.type == "network" else [lb.main_port]
        for i, route in enumerate(api.routes):
            if route.listener is not None and route.listener not in ports:
                c.error(
                    (*base, "routes", i, "listener"),
                    f"load balancer '{api.load_balancer}' has no listener on port "
                    f"{route.listener}" + (" it forwards from" if lb.type == "application" else ""),
                    f"use one of {', '.join(map(str, ports))}",
                )


_ECR_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")


def check_deploy_roles(bp: Blueprint, c: Checker) -> None:
    from cfngen.blueprint.models.deploy_roles import GithubDeployRole

    for name, role in bp.deploy_roles.items():
        if not isinstance(role, GithubDeployRole):
            continue
        base: Path_ = ("deploy_roles", name)
        for i, svc in enumerate(role.services or []):
            c.reference((*base, "services", i), svc, bp.services, "service")
        for i, repo in enumerate(role.repositories or []):
            c.reference((*base, "repositories", i), repo, bp.repositories, "repository")
        if role.branch is not None and role.environment is not None:
            c.error(
                (*base, "environment"),
                "give `branch` or `environment`, not both (the trust pins exactly one subject)",
                "remove one",
            )


def check_repository_names(bp: Blueprint, c: Checker) -> None:
    from cfngen.stacks import environment_name

    if not bp.repositories:
        return
    env_name = environment_name(bp.blueprint, "env", bp.environment_name)
    if bp.environment_name is not None and not _ECR_NAME.match(env_name):
        c.error(
            ("environment_name",),
            f"ECR repository names are lowercase; '{env_name}' names them",
            "use a lowercase environment_name",
        )


CONTAINER_CHECKS = [
    check_services,
    check_load_balancers,
    check_rule_priorities,
    check_apis,
    check_deploy_roles,
    check_repository_names,
]
