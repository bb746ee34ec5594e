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
from dataclasses import dataclass, field
from typing import Any

from troposphere import GetAtt, Join, Ref, Select, Split, Sub, ecs
from troposphere import applicationautoscaling as aas
from troposphere import servicediscovery as sd

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.services import Route, Service, ServiceAlarms
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.builders.containers import (
    ResolvedValue,
    awsvpc_settings,
    check_image_and_size,
    check_relations,
    container_dependencies,
    container_relations,
    fargate_weights,
    resolve_values,
)
from cfngen.builders.task_definition import add_task_definition
from cfngen.kinds import alerts
from cfngen.kinds.base import (
    Attribute,
    Derived,
    Facts,
    Kind,
    Relation,
    RouteTarget,
    Target,
    target_group_output,
)
from cfngen.kinds.cluster import (
    CLUSTER,
    CLUSTER_NAME,
    CLUSTERS,
    EC2_CAPACITY_PROVIDER,
    INSTANCE_GROUP,
    NAMESPACE_ARN,
    NAMESPACE_ID,
    NEEDS_CLUSTER,
    NEEDS_NAMESPACE,
    effective,
    namespace_name,
)
from cfngen.kinds.load_balancer import LB_ARN, LOAD_BALANCERS, lb_key
from cfngen.stacks import Output, logical_id

# Outputs (deploy roles pass the roles; host, port and url are the service's attributes)
SERVICE_NAME = "ServiceName"
TASK_ROLE_ARN = "TaskRoleArn"
EXECUTION_ROLE_ARN = "ExecutionRoleArn"
HOST = "Host"
PORT = "Port"
URL = "Url"


def service_key(name: str) -> str:
    return SERVICES.key(name)


def group_of(svc: Service, name: str) -> str:
    """The security group a service's tasks use: its own (awsvpc) or the instances' (bridge)."""
    return service_key(name) if svc.network_mode == "awsvpc" else INSTANCE_GROUP


def container_port(svc: Service, route: Route) -> int | None:
    if route.port is not None:
        return route.port
    mappings = svc.port_mappings
    return mappings[0].container if mappings else None


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    service: Service
    fargate_weights: tuple[tuple[str, int, int], ...]  # (provider, weight, base)
    values: dict[str, ResolvedValue] = field(default_factory=dict)  # env/secret name -> value
    namespace: bool = False
    alarms: ServiceAlarms | None = None  # effective alarm settings (None: no alarms)
    address: Address | None = None  # how others reach it by name


def effective_alarms(bp: Blueprint, svc: Service) -> ServiceAlarms | None:
    """A service's alarms: its own `alarms`, or the defaults when the blueprint has `alerts`."""
    if svc.alarms is not None:
        return svc.alarms
    return ServiceAlarms() if alerts.dependency(bp) else None


# --- what a service offers others -----------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """How other components reach a service by name: `host:port`."""

    host: str
    port: int


def address(bp: Blueprint, name: str, svc: Service) -> Address | None:
    """A service's name in Cloud Map (`<name>.<namespace>`) or its Service Connect alias."""
    if svc.discovery and svc.network_mode == "awsvpc" and svc.port_mappings:
        return Address(f"{name}.{namespace_name(bp)}", svc.port_mappings[0].container)
    if svc.service_connect is not None and svc.service_connect.aliases:
        alias = svc.service_connect.aliases[0]
        return Address(alias.dns_name or name, alias.client_port or alias.port)
    return None


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    """`host`, `port` and `url` of every service others can reach by name."""
    out: dict[str, dict[str, Attribute]] = {}
    for name, svc in SERVICES.entries(bp).items():
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
    for name, svc in SERVICES.entries(bp).items():
        ports = [
            (m.host or m.container) if svc.network_mode == "bridge" else m.container
            for m in svc.port_mappings
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
    load_balancers = LOAD_BALANCERS.entries(bp)
    for sname, svc in SERVICES.entries(bp).items():
        for i, route in enumerate(svc.routes):
            lb = load_balancers.get(route.load_balancer)
            port = container_port(svc, route)
            if lb is None or port is None:
                continue
            mapping = next((m for m in svc.port_mappings if m.container == port), None)
            if mapping is None:
                continue
            target_port = mapping.host if svc.network_mode == "bridge" and mapping.host else port
            yield RouteTarget(
                service=sname,
                index=i,
                route=route,
                load_balancer=route.load_balancer,
                listener=route.listener or lb.main_port,
                container_port=port,
                target_port=target_port,
                target_type="instance" if svc.network_mode == "bridge" else "ip",
                source=("services", sname, "routes", i),
            )


def needs(bp: Blueprint) -> Iterable[tuple[str, Path_]]:
    services = SERVICES.entries(bp)
    if services:
        yield NEEDS_CLUSTER, ("services",)
    if any(s.discovery or s.service_connect is not None for s in services.values()):
        yield NEEDS_NAMESPACE, ("services",)


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    for name, svc in SERVICES.entries(bp).items():
        own = group_of(svc, name)
        if svc.network_mode == "awsvpc":
            out.groups[own] = SecurityGroup(
                description=f"ECS service {name} tasks", egress=svc.egress
            )
            out.sources[own] = ("services", name)
        for rt in facts.routes_of(name):
            out.relations.append(
                Relation(
                    lb_key(rt.load_balancer),
                    own,
                    rt.target_port,
                    f"Load balancer {rt.load_balancer} to service {name}",
                )
            )
        out.relations.extend(container_relations(own, f"Service {name}", svc, facts))
    return out


# --- plan -----------------------------------------------------------------------------------------


def _dependencies(bp: Blueprint, facts: Facts, name: str, svc: Service) -> dict[str, Path_]:
    base: Path_ = ("services", name)
    lbs = [
        (route.load_balancer, (*base, "routes", i, "load_balancer"))
        for i, route in enumerate(svc.routes)
    ]
    deps = container_dependencies(
        facts, base, svc, awsvpc=svc.network_mode == "awsvpc", load_balancers=lbs
    )
    if effective_alarms(bp, svc) is not None:
        for dep in alerts.dependency(bp):
            deps.setdefault(dep, (*base, "alarms"))
    deps.pop(service_key(name), None)
    return deps


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    weights = fargate_weights(effective(bp, facts))
    plans: list[StackPlan[Any]] = []
    for name, svc in SERVICES.entries(bp).items():
        deps = _dependencies(bp, facts, name, svc)
        plans.append(
            StackPlan(
                component=service_key(name),
                title=f"ECS service {name}",
                build=build,
                spec=ServiceSpec(
                    name=name,
                    service=svc,
                    fargate_weights=weights,
                    values=resolve_values(facts, svc),
                    namespace=svc.discovery or svc.service_connect is not None,
                    alarms=effective_alarms(bp, svc),
                    address=address(bp, name, svc),
                ),
                depends_on=tuple(deps),
                source=("services", name),
                dependency_sources=deps,
            )
        )
    return plans


# --- checks ---------------------------------------------------------------------------------------


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    cluster = CLUSTERS.one(bp)
    load_balancers = LOAD_BALANCERS.entries(bp)
    nlb_listeners: dict[tuple[str, int], Path_] = {}
    alb_rules: dict[tuple[str, int, str | None, str | None], Path_] = {}
    connect_names: dict[str, Path_] = {}
    for name, svc in SERVICES.entries(bp).items():
        base: Path_ = ("services", name)
        check_image_and_size(bp, facts, c, base, svc, fargate=svc.capacity == "fargate")
        if svc.capacity == "ec2" and (cluster is None or cluster.ec2 is None):
            c.error(
                (*base, "capacity"),
                "the cluster has no EC2 capacity",
                "add `ec2: {instance_type: ...}` to `cluster`",
            )
        container_ports = [m.container for m in svc.port_mappings]
        for i, route in enumerate(svc.routes):
            rpath: Path_ = (*base, "routes", i)
            lb = load_balancers.get(route.load_balancer)
            if lb is None:
                c.reference(
                    (*rpath, "load_balancer"), route.load_balancer, load_balancers, "load balancer"
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
        check_relations(bp, facts, c, base, name, svc, "service")
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


def check_alarms(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """Running-task alarms read Container Insights, which the cluster must not turn off."""
    cluster = CLUSTERS.one(bp)
    if cluster is None or cluster.container_insights != "disabled":
        return
    for name, svc in SERVICES.entries(bp).items():
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


# -- the service stack ----------------------------------------------------------------------


def build(spec: ServiceSpec, ctx: Context) -> None:
    svc = spec.service
    name = spec.name
    parts = add_task_definition(
        ctx,
        name,
        svc,
        spec.values,
        capacity=svc.capacity,
        network_mode=svc.network_mode,
        port_mappings=svc.port_mappings,
        exec_=svc.exec,
    )
    logs, task_def = parts.log_group, parts.task_definition

    # -- service
    cluster_name = ctx.import_value(CLUSTER, CLUSTER_NAME)
    service_props: dict[str, Any] = {
        "ServiceName": name,
        "Cluster": cluster_name,
        "TaskDefinition": Ref(task_def),
        "DesiredCount": svc.desired_count,
        "SchedulingStrategy": "REPLICA",
        "DeploymentController": ecs.DeploymentController(Type="ECS"),
        "DeploymentConfiguration": ecs.DeploymentConfiguration(
            MinimumHealthyPercent=svc.deployment.minimum_healthy_percent,
            MaximumPercent=svc.deployment.maximum_percent,
            DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
        ),
        "EnableExecuteCommand": svc.exec,
        "EnableECSManagedTags": True,
        "PropagateTags": "SERVICE",
        "Tags": ctx.name_tag(name),
    }
    if svc.capacity == "ec2":
        service_props["CapacityProviderStrategy"] = [
            ecs.CapacityProviderStrategyItem(
                CapacityProvider=ctx.import_value(CLUSTER, EC2_CAPACITY_PROVIDER), Weight=1
            )
        ]
    else:
        service_props["CapacityProviderStrategy"] = [
            ecs.CapacityProviderStrategyItem(CapacityProvider=p, Weight=w, Base=b)
            for p, w, b in spec.fargate_weights
        ]
    public_reason = None
    if svc.network_mode == "awsvpc":
        net = awsvpc_settings(ctx, service_key(name), svc)
        service_props["NetworkConfiguration"] = ecs.NetworkConfiguration(
            AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                Subnets=net.subnets,
                SecurityGroups=net.security_groups,
                AssignPublicIp=net.assign_public_ip,
            )
        )
        if svc.public:
            public_reason = svc.placement.reason
    balancers = []
    routed: list[tuple[str, str, int]] = []  # (load balancer, target group output, port)
    seen: set[tuple[str, str]] = set()
    for route in svc.routes:
        port = container_port(svc, route)
        if port is None:
            continue
        ref = (lb_key(route.load_balancer), target_group_output(name, port))
        if ref in seen:
            continue
        seen.add(ref)
        routed.append((route.load_balancer, ref[1], port))
        balancers.append(
            ecs.LoadBalancer(
                ContainerName=name, ContainerPort=port, TargetGroupArn=ctx.import_value(*ref)
            )
        )
    if balancers:
        service_props["LoadBalancers"] = balancers
        service_props["HealthCheckGracePeriodSeconds"] = (
            svc.health_check_grace_period if svc.health_check_grace_period is not None else 60
        )
    if svc.discovery:
        record = "A" if svc.network_mode == "awsvpc" else "SRV"
        registry = ctx.add(
            sd.Service(
                "DiscoveryService",
                Name=name,
                NamespaceId=ctx.import_value(CLUSTER, NAMESPACE_ID),
                DnsConfig=sd.DnsConfig(
                    DnsRecords=[sd.DnsRecord(Type=record, TTL=10)], RoutingPolicy="MULTIVALUE"
                ),
                HealthCheckCustomConfig=sd.HealthCheckCustomConfig(FailureThreshold=1),
                Tags=ctx.name_tag(f"{name}-discovery"),
            )
        )
        reg: dict[str, Any] = {"RegistryArn": GetAtt(registry, "Arn")}
        if record == "SRV" and svc.port_mappings:
            reg["ContainerName"] = name
            reg["ContainerPort"] = svc.port_mappings[0].container
        service_props["ServiceRegistries"] = [ecs.ServiceRegistry(**reg)]
    if svc.service_connect is not None:
        sc_services = []
        for alias in svc.service_connect.aliases:
            sc_services.append(
                ecs.ServiceConnectService(
                    PortName=f"{name}-{alias.port}",
                    DiscoveryName=alias.dns_name or name,
                    ClientAliases=[
                        ecs.ServiceConnectClientAlias(
                            DnsName=alias.dns_name or name, Port=alias.client_port or alias.port
                        )
                    ],
                )
            )
        sc: dict[str, Any] = {
            "Enabled": True,
            "Namespace": ctx.import_value(CLUSTER, NAMESPACE_ARN),
            "LogConfiguration": ecs.LogConfiguration(
                LogDriver="awslogs",
                Options={
                    "awslogs-group": Ref(logs),
                    "awslogs-region": Ref("AWS::Region"),
                    "awslogs-stream-prefix": "service-connect",
                },
            ),
        }
        if sc_services:
            sc["Services"] = sc_services
        service_props["ServiceConnectConfiguration"] = ecs.ServiceConnectConfiguration(**sc)
    service = ecs.Service("Service", **service_props)
    if public_reason is not None and svc.placement.assign_public_ip:
        reason = f"public IP by choice: {public_reason}"
        waive(service, {"CFG002": reason, "CKV_AWS_333": reason})
    service = ctx.add(service)

    if svc.autoscaling is not None:
        auto = svc.autoscaling
        target = ctx.add(
            aas.ScalableTarget(
                "ScalableTarget",
                ServiceNamespace="ecs",
                ScalableDimension="ecs:service:DesiredCount",
                ResourceId=Join("/", ["service", cluster_name, GetAtt(service, "Name")]),
                MinCapacity=auto.min,
                MaxCapacity=auto.max,
            )
        )
        for metric, utilisation in (("CPU", auto.cpu), ("Memory", auto.memory)):
            if utilisation is None:
                continue
            ctx.add(
                aas.ScalingPolicy(
                    f"{metric}ScalingPolicy",
                    PolicyName=Sub(f"${{EnvironmentName}}-{name}-{metric.lower()}"),
                    PolicyType="TargetTrackingScaling",
                    ScalingTargetId=Ref(target),
                    TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                        TargetValue=float(utilisation),
                        PredefinedMetricSpecification=aas.PredefinedMetricSpecification(
                            PredefinedMetricType=f"ECSServiceAverage{metric}Utilization"
                        ),
                        ScaleInCooldown=120,
                        ScaleOutCooldown=60,
                    ),
                )
            )

    if spec.alarms is not None:
        _alarms(spec, spec.alarms, cluster_name, service, routed, ctx)

    ctx.export(SERVICE_NAME, GetAtt(service, "Name"), f"ECS service {name}")
    ctx.export(TASK_ROLE_ARN, GetAtt(parts.task_role, "Arn"), f"Task role of service {name}")
    ctx.export(
        EXECUTION_ROLE_ARN,
        GetAtt(parts.execution_role, "Arn"),
        f"Execution role of service {name}",
    )
    found = spec.address
    if found is not None:
        ctx.export(HOST, found.host, f"DNS name of service {name}")
        ctx.export(PORT, str(found.port), f"Port of service {name}")
        ctx.export(URL, f"http://{found.host}:{found.port}", f"URL of service {name}")
    ctx.output("LogGroupName", Ref(logs), "Where the service's logs go")


def _alarms(
    spec: ServiceSpec,
    alarms: ServiceAlarms,
    cluster_name: Any,
    service: Any,
    routed: list[tuple[str, str, int]],
    ctx: Context,
) -> None:
    """Tasks below desired count, CPU, memory, and each load balancer route's targets."""
    name = spec.name
    dims = {"ClusterName": cluster_name, "ServiceName": GetAtt(service, "Name")}
    if alarms.running_below_desired:
        alerts.add_alarm(
            ctx,
            "RunningTasksAlarm",
            description=f"Service {name}: fewer tasks running than desired for 10 minutes",
            threshold=0,
            metrics=[
                alerts.metric_query(
                    "desired", "ECS/ContainerInsights", "DesiredTaskCount", dims, "Maximum"
                ),
                alerts.metric_query(
                    "running", "ECS/ContainerInsights", "RunningTaskCount", dims, "Minimum"
                ),
                alerts.expression("missing", "desired - running", "Tasks missing"),
            ],
        )
    for title, metric, what, threshold in (
        ("CpuAlarm", "CPUUtilization", "CPU", alarms.cpu_percent),
        ("MemoryAlarm", "MemoryUtilization", "memory", alarms.memory_percent),
    ):
        if threshold is None:
            continue
        alerts.add_alarm(
            ctx,
            title,
            description=f"Service {name}: average {what} above {threshold}% for 10 minutes",
            namespace="AWS/ECS",
            metric=metric,
            dimensions=dims,
            threshold=threshold,
        )
    load_balancers = LOAD_BALANCERS.entries(ctx.blueprint)
    for lb_name, tg_output, port in routed:
        lb = load_balancers[lb_name]
        tg_arn = ctx.import_value(lb_key(lb_name), tg_output)
        lb_arn = ctx.import_value(lb_key(lb_name), LB_ARN)
        tg_dims = {
            # targetgroup/<name>/<id> and app/<name>/<id>: the ARNs' resource parts
            "TargetGroup": Select(5, Split(":", tg_arn)),
            "LoadBalancer": Select(1, Split("loadbalancer/", lb_arn)),
        }
        prefix = logical_id(lb_name, str(port))
        namespace = "AWS/ApplicationELB" if lb.type == "application" else "AWS/NetworkELB"
        if alarms.unhealthy:
            alerts.add_alarm(
                ctx,
                f"{prefix}UnhealthyAlarm",
                description=f"Service {name} port {port}: targets failing the health check of "
                f"load balancer {lb_name}",
                namespace=namespace,
                metric="UnHealthyHostCount",
                dimensions=tg_dims,
                threshold=1,
                comparison="GreaterThanOrEqualToThreshold",
                statistic="Maximum",
                period=60,
                evaluation_periods=3,
            )
        if alarms.target_5xx_count is not None and lb.type == "application":
            alerts.add_alarm(
                ctx,
                f"{prefix}Target5xxAlarm",
                description=f"Service {name} port {port}: more than {alarms.target_5xx_count} "
                f"HTTP 5xx responses in 5 minutes through load balancer {lb_name}",
                namespace="AWS/ApplicationELB",
                metric="HTTPCode_Target_5XX_Count",
                dimensions=tg_dims,
                threshold=alarms.target_5xx_count,
                statistic="Sum",
                evaluation_periods=1,
                missing_data="notBreaching",
            )


SERVICES: Kind[Service] = Kind(
    section="services",
    model=Service,
    description="ECS services, one stack each.",
    prefix="service",
    plan=plan,
    targets=targets,
    attributes=attributes,
    routes=routes,
    groups=groups,
    needs=needs,
    checks=(check, check_alarms),
    order=62,
)
KIND = SERVICES
