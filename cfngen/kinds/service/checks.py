"""The service kind's semantic checks: routes fit their load balancers, Service Connect names
are unique, discovery and capacity settings fit the cluster, alarms have their metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.containers import (
    check_containers,
    check_image_and_size,
    check_relations,
)
from cfngen.kinds import alerts
from cfngen.kinds.base import (
    Facts,
)
from cfngen.kinds.cluster import (
    CLUSTERS,
)
from cfngen.kinds.service.spec import (
    all_ports,
    connect_discovery_name,
    container_port,
    effective_alarms,
    ports_of,
    services_of,
)

if TYPE_CHECKING:  # the load balancer kind loads only for blueprints that have one
    from cfngen.blueprint.models.load_balancers import LoadBalancer

# --- checks ---------------------------------------------------------------------------------------


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    cluster = CLUSTERS.one(bp)
    load_balancers: dict[str, LoadBalancer] = bp.load_balancers
    nlb_listeners: dict[tuple[str, int], Path_] = {}
    alb_rules: dict[tuple[str, int, str | None, str | None], Path_] = {}
    connect_names: dict[str, Path_] = {}
    cloud_map: dict[str, Path_] = {}  # names in the namespace: DNS registrations, SC discovery
    for name, svc in services_of(bp).items():
        base: Path_ = ("services", name)
        check_image_and_size(
            bp, facts, c, base, svc, fargate=svc.capacity == "fargate", chooses_capacity=True
        )
        groups = cluster.ec2_groups if cluster is not None else {}
        if svc.ec2_group is not None:
            c.reference((*base, "ec2_group"), svc.ec2_group, groups, "cluster EC2 group")
        elif svc.capacity == "ec2" and (cluster is None or cluster.ec2 is None):
            c.error(
                (*base, "capacity"),
                "the cluster has no EC2 capacity",
                "add `ec2: {instance_type: ...}` to `cluster`"
                + (f", or choose one of its ec2_groups ({', '.join(groups)})" if groups else ""),
            )
        container_ports = [m.container for _, m in all_ports(svc, name)]
        check_containers(
            c, name, svc, base, fargate=svc.capacity == "fargate", ports=svc.port_mappings
        )
        for i, route in enumerate(svc.routes):
            rpath: Path_ = (*base, "routes", i)
            lb = load_balancers.get(route.load_balancer)
            if lb is None:
                c.reference(
                    (*rpath, "load_balancer"), route.load_balancer, load_balancers, "load balancer"
                )
                continue
            if route.container is not None and route.container not in {name, *svc.containers}:
                c.reference(
                    (*rpath, "container"), route.container, [name, *svc.containers], "container"
                )
                continue
            port = container_port(svc, route, name)
            if port is None:
                c.error(rpath, "a routed service needs a port", "add `port:` to the service")
                continue
            receiving = [m.container for m in ports_of(svc, name, route.container)]
            if port not in receiving:
                c.error(
                    (*rpath, "port"),
                    f"port {port} is not one of the "
                    + (f"container {route.container}'s" if route.container else "service's")
                    + " ports",
                    f"use one of {', '.join(map(str, receiving)) or '(none: add ports)'}",
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
        check_relations(bp, facts, c, base, name, svc, "service")
        mix = svc.capacity_mix
        if (
            mix is not None
            and mix.fargate_spot is not None
            and (cluster is None or cluster.fargate_spot is None)
        ):
            c.error(
                (*base, "capacity_mix", "fargate_spot"),
                "the cluster has no Fargate Spot capacity for this service to use",
                "add `fargate_spot: {weight: 0}` to the cluster (weight 0 keeps the cluster's "
                "default strategy as it is)",
            )
        if svc.placement.security_groups and svc.network_mode != "awsvpc":
            c.error(
                (*base, "placement", "security_groups"),
                f"tasks in {svc.network_mode} mode use the container instances' security group",
                "use network_mode: awsvpc, or remove `security_groups`",
            )
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
                taken = cloud_map.get(connect_discovery_name(svc, name, alias))
                if taken is not None and taken[:2] != base and connect_names[dns_name] == apath:
                    c.error(
                        apath,
                        f"Cloud Map name '{dns_name}' is already registered by "
                        f"{'.'.join(map(str, taken[:2]))}",
                        "give the alias another dns_name",
                    )
                cloud_map.setdefault(connect_discovery_name(svc, name, alias), apath)
                if alias.port not in container_ports:
                    c.error(
                        (*base, "service_connect", "aliases", i, "port"),
                        f"port {alias.port} is not one of the service's ports",
                        f"use one of {', '.join(map(str, container_ports)) or '(none: add ports)'}",
                    )
        if svc.discovery:
            taken = cloud_map.get(name)
            if taken is not None and taken[:2] != base:
                c.error(
                    (*base, "discovery"),
                    f"Cloud Map name '{name}' is already taken by "
                    f"{'.'.join(map(str, taken[:2]))}'s Service Connect alias",
                    f"give that alias another dns_name than '{name}'",
                )
            cloud_map.setdefault(name, (*base, "discovery"))
        if svc.discovery and svc.network_mode != "awsvpc":
            c.error(
                (*base, "discovery"),
                "Cloud Map DNS registration needs awsvpc network mode",
                "use service_connect, or network_mode: awsvpc",
            )


def check_alarms(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Running-task alarms read Container Insights, which the cluster must not turn off."""
    cluster = CLUSTERS.one(bp)
    if cluster is None or cluster.container_insights != "disabled":
        return
    for name, svc in services_of(bp).items():
        alarms = effective_alarms(bp, svc)
        if alarms is not None and alarms.running_below_desired:
            c.error(
                ("cluster", "container_insights"),
                f"service {name}'s running-task alarm reads Container Insights metrics, which "
                "this cluster turns off",
                "enable container_insights, or set alarms: {running_below_desired: false} on "
                f"services.{name}",
            )
            return


def check_events(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Service events go to the alerts topic; a rollback on alarms needs alarms to roll back on."""
    has_alerts = bool(alerts.dependency(bp))
    for name, svc in services_of(bp).items():
        if svc.events is not None and not has_alerts:
            c.error(
                ("services", name, "events"),
                f"service {name} sends its events to alerts, but the blueprint has no `alerts`",
                "add an `alerts:` section (the SNS topic events are sent to), or remove `events`",
            )
        if svc.deployment.rollback_on_alarms and effective_alarms(bp, svc) is None:
            c.error(
                ("services", name, "deployment", "rollback_on_alarms"),
                f"service {name} rolls deployments back on its alarms, but it has none",
                "add an `alerts:` section (services get alarms by default) or set `alarms:` on "
                f"services.{name}",
            )


# -- the service stack ----------------------------------------------------------------------


def check_autoscaling(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """What scaling reads exists: an application load balancer route for requests per target,
    the queue for backlog per task, Container Insights for the running task count."""
    cluster = CLUSTERS.one(bp)
    insights_off = cluster is not None and cluster.container_insights == "disabled"
    load_balancers: dict[str, LoadBalancer] = bp.load_balancers
    queues = bp.queues
    for name, svc in services_of(bp).items():
        auto = svc.autoscaling
        if auto is None:
            continue
        base: Path_ = ("services", name, "autoscaling")
        if auto.requests_per_target is not None and not any(
            load_balancers.get(r.load_balancer) is not None
            and load_balancers[r.load_balancer].type == "application"
            for r in svc.routes
        ):
            c.error(
                (*base, "requests_per_target"),
                "requests per target are counted by an application load balancer; this service "
                "has no route to one",
                "add a route to an application load balancer, or scale on cpu",
            )
        if auto.queue is not None:
            if auto.queue.queue not in queues:
                c.reference((*base, "queue", "queue"), auto.queue.queue, queues, "queue")
            elif insights_off:
                c.error(
                    (*base, "queue"),
                    "backlog per task divides by the running task count, a Container Insights "
                    "metric this cluster turns off",
                    "enable container_insights on the cluster",
                )
        if auto.steps is not None and (auto.cpu is not None or auto.memory is not None):
            metric = auto.steps.metric
            if (metric == "cpu" and auto.cpu is not None) or (
                metric == "memory" and auto.memory is not None
            ):
                c.error(
                    (*base, "steps", "metric"),
                    f"{metric} is already a target tracking target; step scaling on the same "
                    "metric would fight it",
                    f"remove `{metric}:` or the steps",
                )
