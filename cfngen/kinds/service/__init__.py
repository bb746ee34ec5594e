"""The service kind: ECS services, one stack `service-<name>` each, with the task definition,
execution and task roles, log group, the ECS service, and its optional autoscaling, Cloud Map
registration, Service Connect and alarms.

What services share with tasks (dependencies, typed values, relations, network settings, the
task definition) is in cfngen.builders.containers and cfngen.builders.task_definition. A service
offers others a connection target (its ports), routes to load balancers, and, when it can be
reached by name, the attributes `host`, `port` and `url`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.services import Service
from cfngen.blueprint.source import Path_
from cfngen.builders.base import StackPlan
from cfngen.builders.containers import (
    container_dependencies,
    container_relations,
    fargate_weights,
)
from cfngen.kinds import alerts
from cfngen.kinds.base import (
    Attribute,
    Derived,
    Facts,
    Kind,
    MetricSource,
    Relation,
    RouteTarget,
    Target,
)
from cfngen.kinds.cluster import NEEDS_CLUSTER, NEEDS_NAMESPACE, effective
from cfngen.kinds.service.build import build
from cfngen.kinds.service.checks import check, check_alarms, check_autoscaling, check_events
from cfngen.kinds.service.spec import (
    EXECUTION_ROLE_ARN,
    HOST,
    PORT,
    PREFIX,
    SERVICE_NAME,
    TASK_ROLE_ARN,
    URL,
    ServiceSpec,
    address,
    all_ports,
    container_port,
    effective_alarms,
    group_of,
    ports_of,
    service_key,
    services_of,
)
from cfngen.stacks import Output

if TYPE_CHECKING:  # the load balancer kind loads only for blueprints that have one
    from cfngen.blueprint.models.load_balancers import LoadBalancer

__all__ = ["EXECUTION_ROLE_ARN", "SERVICES", "SERVICE_NAME", "TASK_ROLE_ARN", "service_key"]


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/ECS metrics of each service, selected by the cluster (named like the environment)
    and the service's name."""
    return {
        name: MetricSource(
            "AWS/ECS",
            {"ClusterName": "${EnvironmentName}", "ServiceName": name},
            ("CPUUtilization", "MemoryUtilization"),
        )
        for name in services_of(bp)
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    """`host`, `port` and `url` of every service others can reach by name."""
    out: dict[str, dict[str, Attribute]] = {}
    for name, svc in services_of(bp).items():
        if address(bp, name, svc) is None:
            continue
        key = service_key(name)
        out[name] = {
            "host": Attribute(Output(key, HOST), "value", "DNS name clients use"),
            "port": Attribute(Output(key, PORT), "value", "Port clients use"),
            "url": Attribute(Output(key, URL), "value", "http://host:port"),
        }
    return out


def targets(bp: Blueprint) -> list[Target]:
    out = []
    for name, svc in services_of(bp).items():
        ports = [
            (m.host or m.container) if svc.network_mode == "bridge" else m.container
            for _, m in all_ports(svc, name)
            if m.protocol == "tcp"
        ]
        out.append(
            Target(
                name=name,
                kind="service",
                group=group_of(svc, name),
                ports=tuple(ports),
                source=("services", name),
            )
        )
    return out


def routes(bp: Blueprint) -> Iterable[RouteTarget]:
    """Every valid route of every service, resolved against its load balancer."""
    load_balancers: dict[str, LoadBalancer] = bp.load_balancers
    for sname, svc in services_of(bp).items():
        for i, route in enumerate(svc.routes):
            lb = load_balancers.get(route.load_balancer)
            port = container_port(svc, route, sname)
            if lb is None or port is None:
                continue
            ports = ports_of(svc, sname, route.container)
            mapping = next((m for m in ports if m.container == port), None)
            if mapping is None:
                continue
            target_port = mapping.host if svc.network_mode == "bridge" and mapping.host else port
            yield RouteTarget(
                service=sname,
                index=i,
                route=route,
                load_balancer=route.load_balancer,
                container=route.container or sname,
                listener=route.listener or lb.main_port,
                container_port=port,
                target_port=target_port,
                target_type="instance" if svc.network_mode == "bridge" else "ip",
                source=("services", sname, "routes", i),
                dynamic=svc.network_mode == "bridge" and not mapping.host,
            )


def needs(bp: Blueprint) -> Iterable[tuple[str, Path_]]:
    services = services_of(bp)
    if services:
        yield NEEDS_CLUSTER, ("services",)
    if any(s.discovery or s.service_connect is not None for s in services.values()):
        yield NEEDS_NAMESPACE, ("services",)


DYNAMIC_PORTS = (32768, 65535)  # the ECS agent's host ports for bridge mode without `host`


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    for name, svc in services_of(bp).items():
        own = group_of(svc, name)
        if svc.network_mode == "awsvpc":
            out.groups[own] = SecurityGroup(
                description=f"ECS service {name} tasks", egress=svc.egress
            )
            out.sources[own] = ("services", name)
        for rt in facts.routes_of(name):
            from cfngen.kinds.load_balancer import lb_key  # routed: the blueprint has one

            out.relations.append(
                Relation(
                    lb_key(rt.load_balancer),
                    own,
                    DYNAMIC_PORTS[0] if rt.dynamic else rt.target_port,
                    f"Load balancer {rt.load_balancer} to service {name}",
                    to_port=DYNAMIC_PORTS[1] if rt.dynamic else None,
                    origin=rt.source,
                )
            )
        out.relations.extend(container_relations(bp, own, f"Service {name}", svc, facts))
    return out


# --- plan -----------------------------------------------------------------------------------------


def _dependencies(bp: Blueprint, facts: Facts, name: str, svc: Service) -> dict[str, Path_]:
    base: Path_ = ("services", name)
    lbs = [
        (route.load_balancer, (*base, "routes", i, "load_balancer"))
        for i, route in enumerate(svc.routes)
    ]
    deps = container_dependencies(
        bp,
        facts,
        base,
        svc,
        awsvpc=svc.network_mode == "awsvpc",
        load_balancers=lbs,
        group=service_key(name),
    )
    if effective_alarms(bp, svc) is not None:
        for dep in alerts.dependency(bp):
            deps.setdefault(dep, (*base, "alarms"))
    if svc.autoscaling is not None and svc.autoscaling.queue is not None:
        queue = facts.stack_of(svc.autoscaling.queue.queue)
        if queue is not None:
            deps.setdefault(queue, (*base, "autoscaling", "queue", "queue"))
    deps.pop(service_key(name), None)
    return deps


def publishers(bp: Blueprint) -> tuple[str, ...]:
    """Services with `events` publish to the alerts topic through EventBridge."""
    return (alerts.EVENTS,) if any(s.events for s in services_of(bp).values()) else ()


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    weights = fargate_weights(effective(bp, facts))
    plans: list[StackPlan[Any]] = []
    load_balancers: dict[str, LoadBalancer] = bp.load_balancers
    for name, svc in services_of(bp).items():
        deps = _dependencies(bp, facts, name, svc)
        plans.append(
            StackPlan(
                component=service_key(name),
                title=f"ECS service {name}",
                build=build,
                spec=ServiceSpec(
                    name=name,
                    service=svc,
                    fargate_weights=svc.capacity_mix.weights() if svc.capacity_mix else weights,
                    namespace=svc.discovery or svc.service_connect is not None,
                    alarms=effective_alarms(bp, svc),
                    address=address(bp, name, svc),
                    application_lbs=tuple(
                        lb for lb, model in load_balancers.items() if model.type == "application"
                    ),
                ),
                depends_on=tuple(deps),
                source=("services", name),
                dependency_sources=deps,
            )
        )
    return plans


SERVICES: Kind[Service] = Kind(
    section="services",
    model=Service,
    description="ECS services, one stack each.",
    prefix=PREFIX,
    plan=plan,
    targets=targets,
    metrics=metrics,
    attributes=attributes,
    routes=routes,
    groups=groups,
    needs=needs,
    alert_publishers=publishers,
    checks=(check, check_alarms, check_autoscaling, check_events),
    order=62,
)
KIND = SERVICES
