"""The service stack: the task definition (shared with tasks), the ECS service with its
capacity, network, load balancers, Cloud Map registration and Service Connect, autoscaling and
alarms, and the outputs others import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from troposphere import GetAtt, Ref, Select, Split, ecs
from troposphere import servicediscovery as sd

from cfngen.blueprint.models.services import ServiceAlarms, ServiceEvents
from cfngen.builders.base import Context
from cfngen.builders.common import waive
from cfngen.builders.containers import (
    awsvpc_settings,
)
from cfngen.builders.task_definition import add_task_definition
from cfngen.kinds import alerts
from cfngen.kinds.base import (
    target_group_output,
)
from cfngen.kinds.cluster import (
    CLUSTER,
    CLUSTER_ARN,
    CLUSTER_NAME,
    EC2_CAPACITY_PROVIDER,
    NAMESPACE_ARN,
    NAMESPACE_ID,
    ec2_group_output,
)
from cfngen.kinds.service.scaling import add_autoscaling
from cfngen.kinds.service.spec import (
    EXECUTION_ROLE_ARN,
    HOST,
    PORT,
    SERVICE_NAME,
    TASK_DEFINITION_ARN,
    TASK_ROLE_ARN,
    URL,
    ServiceSpec,
    connect_discovery_name,
    container_port,
    owner_of,
    service_key,
)
from cfngen.stacks import logical_id

if TYPE_CHECKING:  # the load balancer kind loads only for blueprints that have one
    from cfngen.blueprint.models.load_balancers import LoadBalancer


def build(spec: ServiceSpec, ctx: Context) -> None:
    svc = spec.service
    name = spec.name
    parts = add_task_definition(
        ctx,
        name,
        svc,
        capacity=svc.capacity,
        network_mode=svc.network_mode,
        port_mappings=svc.port_mappings,
        exec_=svc.exec,
        base=("services", name),
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
        provider = ec2_group_output(svc.ec2_group) if svc.ec2_group else EC2_CAPACITY_PROVIDER
        service_props["CapacityProviderStrategy"] = [
            ecs.CapacityProviderStrategyItem(
                CapacityProvider=ctx.import_value(CLUSTER, provider), Weight=1
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
        from cfngen.kinds.load_balancer import lb_key  # a route: the blueprint has its kind

        port = container_port(svc, route, name)
        if port is None:
            continue
        ref = (lb_key(route.load_balancer), target_group_output(name, port))
        if ref in seen:
            continue
        seen.add(ref)
        routed.append((route.load_balancer, ref[1], port))
        balancers.append(
            ecs.LoadBalancer(
                ContainerName=route.container or name,
                ContainerPort=port,
                TargetGroupArn=ctx.import_value(*ref),
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
                    PortName=f"{owner_of(svc, name, alias.port)}-{alias.port}",
                    DiscoveryName=connect_discovery_name(svc, name, alias),
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
    rollback: list[Any] = []
    if spec.alarms is not None:
        rollback = _alarms(spec, spec.alarms, cluster_name, routed, ctx)
    if svc.deployment.rollback_on_alarms and rollback:
        service_props["DeploymentConfiguration"].Alarms = ecs.DeploymentAlarms(
            AlarmNames=[Ref(a) for a in rollback], Enable=True, Rollback=True
        )
    service = ecs.Service("Service", **service_props)
    if public_reason is not None and svc.placement.assign_public_ip:
        reason = f"public IP by choice: {public_reason}"
        waive(service, {"CFG002": reason, "CKV_AWS_333": reason})
    service = ctx.add(service)

    if svc.autoscaling is not None:
        alb_routes = [
            rt for rt in ctx.facts.routes_of(name) if rt.load_balancer in spec.application_lbs
        ]
        add_autoscaling(ctx, name, svc.autoscaling, cluster_name, service, alb_routes)

    if svc.events is not None and alerts.dependency(ctx.blueprint):
        _events(name, svc.events, service, ctx)

    ctx.export(SERVICE_NAME, GetAtt(service, "Name"), f"ECS service {name}")
    ctx.export(
        TASK_DEFINITION_ARN,
        Ref(task_def),
        f"Task definition of service {name} (the revision deployed; CI pipelines render the next "
        "one from it)",
    )
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
    routed: list[tuple[str, str, int]],
    ctx: Context,
) -> list[Any]:
    """Tasks below desired count, CPU, memory, and each load balancer route's targets; returns
    the alarms a deployment may roll back on (all but the running-task count, which a rolling
    deployment lowers on purpose). The service is named by its fixed name, so the service can
    list these alarms without a dependency cycle."""
    name = spec.name
    rollback: list[Any] = []
    dims = {"ClusterName": cluster_name, "ServiceName": name}
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
        alarm = alerts.add_alarm(
            ctx,
            title,
            description=f"Service {name}: average {what} above {threshold}% for 10 minutes",
            namespace="AWS/ECS",
            metric=metric,
            dimensions=dims,
            threshold=threshold,
        )
        rollback.append(alarm)
    for lb_name, tg_output, port in routed:
        from cfngen.kinds.load_balancer import LB_ARN, lb_key

        lb: LoadBalancer = ctx.blueprint.load_balancers[lb_name]
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
            alarm = alerts.add_alarm(
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
            rollback.append(alarm)
        if alarms.target_5xx_count is not None and lb.type == "application":
            alarm = alerts.add_alarm(
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
            rollback.append(alarm)
    return rollback


def _events(name: str, events: ServiceEvents, service: Any, ctx: Context) -> None:
    """EventBridge rules sending the service's failed deployments and failed tasks to alerts."""
    if events.deployment_failures:
        alerts.add_event_rule(
            ctx,
            "DeploymentFailedRule",
            description=f"a deployment of service {name} failed",
            pattern={
                "source": ["aws.ecs"],
                "detail-type": ["ECS Deployment State Change"],
                "resources": [Ref(service)],
                "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
            },
            paths={"reason": "$.detail.reason", "deployment": "$.detail.deploymentId"},
            message=f"a deployment of service {name} failed and was rolled back: <reason> "
            "(<deployment>)",
        )
    if events.stopped_tasks:
        alerts.add_failed_task_rule(
            ctx,
            "TaskStoppedRule",
            cluster_arn=ctx.import_value(CLUSTER, CLUSTER_ARN),
            group=f"service:{name}",
            description=f"a task of service {name} stopped on an error",
            message=f"a task of service {name} stopped: <reason> (<task>)",
        )
