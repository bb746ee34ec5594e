"""Service stacks `service-<name>`: task definition, execution and task roles, log group, the
ECS service, and its optional autoscaling, Cloud Map registration and alarms.

The execution role (used by the ECS agent) may pull the image, write the log group and read
exactly the secrets the task names; the task role (used by the application) gets only what the
blueprint grants (buckets, file systems, ECS Exec). They are always two roles.

Tasks (cfngen.builders.task) share everything about the container with services: their
dependencies, typed values, security group relations, task definition and network settings are
made by the functions in the first half of this module, which take `ContainerSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import GetAtt, Join, Parameter, Ref, Select, Split, Sub, ecs, iam
from troposphere import applicationautoscaling as aas
from troposphere import servicediscovery as sd

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.services import (
    FARGATE_SIZES,
    ContainerSettings,
    PortMapping,
    Secret,
    Service,
    ServiceAlarms,
)
from cfngen.blueprint.source import Path_
from cfngen.builders import cluster as cluster_builder
from cfngen.builders import network, ops, security
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, waive
from cfngen.builders.containers import (
    BUCKET_ARN,
    CLUSTER,
    CLUSTER_NAME,
    EC2_CAPACITY_PROVIDER,
    ECR,
    EXECUTION_ROLE_ARN,
    FS_ARN,
    FS_ID,
    LB_ARN,
    NAMESPACE_ARN,
    NAMESPACE_ID,
    SERVICE_NAME,
    TASK_ROLE_ARN,
    access_point_output,
    bucket_key,
    container_port,
    efs_key,
    lb_key,
    namespace_name,
    repository_output,
    service_key,
    target_group_output,
)
from cfngen.builders.relations import Attribute, Target, attributes, targets
from cfngen.builders.security import Derived, Relation
from cfngen.stacks import Output, logical_id

IMAGE_TAG = "ImageTag"
# Outputs of a service registered in Cloud Map (or served through Service Connect): its address.
HOST = "Host"
PORT = "Port"
URL = "Url"


def group_of(bp: Blueprint, name: str) -> str:
    """The security group a service's tasks use: its own (awsvpc) or the instances' (bridge)."""
    svc = bp.services[name]
    return service_key(name) if svc.network_mode == "awsvpc" else cluster_builder.INSTANCE_GROUP


def component_stack(bp: Blueprint, name: str) -> str | None:
    """The stack component key of any named component, via the kinds' published providers."""
    if name in bp.services:
        return service_key(name)
    if name in bp.tasks:
        from cfngen.builders.task import task_key

        return task_key(name)
    target = targets(bp).get(name)
    if target is not None:
        return target.group
    attrs = attributes(bp).get(name)
    if attrs:
        return next(iter(attrs.values())).output.component
    return None


@dataclass(frozen=True)
class ResolvedValue:
    output: Output
    attribute: Attribute


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    service: Service
    fargate_weights: tuple[tuple[str, int, int], ...]  # (provider, weight, base)
    values: dict[str, ResolvedValue] = field(default_factory=dict)  # env/secret name -> value
    namespace: bool = False
    alarms: ServiceAlarms | None = None  # effective alarm settings (None: no alarms)


# -- what services and tasks share --------------------------------------------------------


def container_dependencies(
    bp: Blueprint,
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
        deps[ECR] = (*base, "image", "repository")
    for lb, route_path in load_balancers:
        deps.setdefault(lb_key(lb), route_path)
    for i, vol in enumerate(c.volumes):
        deps.setdefault(efs_key(vol.file_system), (*base, "volumes", i, "file_system"))
    for i, access in enumerate(c.buckets):
        deps.setdefault(bucket_key(access.bucket), (*base, "buckets", i, "bucket"))
    for var, resolved in resolve_values(bp, c).items():
        where = "environment" if var in c.environment else "secrets"
        deps.setdefault(resolved.output.component, (*base, where, var, "from"))
    for i, other in enumerate(c.depends_on):
        key = component_stack(bp, other)
        if key is not None:
            deps.setdefault(key, (*base, "depends_on", i))
    return deps


def resolve_values(bp: Blueprint, c: ContainerSettings) -> dict[str, ResolvedValue]:
    """Environment variables and secrets taken by typed reference -> the output to import."""
    attrs = attributes(bp)
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
        attr = attrs.get(comp, {}).get(attr_name)
        if attr is not None:
            out[var] = ResolvedValue(attr.output, attr)
    return out


def container_relations(
    own: str, label: str, c: ContainerSettings, known: dict[str, Target]
) -> list[Relation]:
    """Security group rules a container's `connects_to` and EFS `volumes` need."""
    out = []
    for other in c.connects_to:
        target = known.get(other)
        if target is None or target.group == own:
            continue
        for port in target.ports:
            out.append(Relation(own, target.group, port, f"{label} to {target.kind} {other}"))
    for vol in dict.fromkeys(v.file_system for v in c.volumes):
        out.append(Relation(own, efs_key(vol), 2049, f"{label} mounts file system {vol}"))
    return out


def fargate_weights(bp: Blueprint) -> tuple[tuple[str, int, int], ...]:
    """The cluster's Fargate / Fargate Spot weights as (provider, weight, base)."""
    cluster = cluster_builder.effective(bp)
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


def task_trust() -> PolicyDocument:
    """ECS tasks of this account and region only (the confused-deputy guard AWS recommends)."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", "ecs-tasks.amazonaws.com"),
                Action=[Action("sts", "AssumeRole")],
                Condition=Condition(
                    [
                        ArnLike(
                            "aws:SourceArn",
                            Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"),
                        ),
                        StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
                    ]
                ),
            )
        ],
    )


def statement(actions: list[str], resources: list[Any], **extra: Any) -> Statement:
    return Statement(
        Effect=Allow,
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=resources,
        **extra,
    )


def policy(name: str, statements: list[Statement]) -> iam.Policy:
    return iam.Policy(
        PolicyName=name, PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements)
    )


def ssm_parameter_arn(name: str) -> Sub:
    """The ARN of an SSM parameter named `/a/b` (the name's leading slash joins `parameter`)."""
    return Sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{name}")


def _secret_value_from(
    var: str, secret: Secret, values: dict[str, ResolvedValue], ctx: Context
) -> tuple[Any, Any, str]:
    """(ValueFrom, IAM resource, IAM action) for one secret."""
    if secret.ssm is not None:
        arn = ssm_parameter_arn(secret.ssm)
        return arn, arn, "ssm:GetParameters"
    if secret.secretsmanager is not None:
        base = (
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
            + secret.secretsmanager
        )
        key = f":{secret.key}::" if secret.key else ""
        return Sub(base + key), Sub(base + "-??????"), "secretsmanager:GetSecretValue"
    resolved = values[var]
    arn = ctx.import_value(resolved.output.component, resolved.output.name)
    value = Sub(f"${{Arn}}:{secret.key}::", Arn=arn) if secret.key else arn
    return value, arn, "secretsmanager:GetSecretValue"


@dataclass(frozen=True)
class TaskDefinitionParts:
    task_definition: ecs.TaskDefinition
    execution_role: iam.Role
    task_role: iam.Role
    log_group: Any


def add_task_definition(
    ctx: Context,
    name: str,
    c: ContainerSettings,
    values: dict[str, ResolvedValue],
    *,
    capacity: str = "fargate",
    network_mode: str = "awsvpc",
    port_mappings: Sequence[PortMapping] = (),
    exec_: bool = False,
) -> TaskDefinitionParts:
    """The `ImageTag` parameter, log group, both roles and the task definition of one container.

    The task definition family is `${EnvironmentName}-<name>`; the execution role reads exactly
    the secrets the container names, the task role gets only what the blueprint grants.
    """
    ctx.template.add_parameter(
        Parameter(
            IMAGE_TAG,
            Type="String",
            Default=c.image.tag,
            AllowedPattern="^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
            Description="Image tag to deploy (override with --parameter-overrides).",
        )
    )
    logs = ctx.add(
        log_group(
            "LogGroup",
            c.log_retention_days,
            c.log_kms_key_arn,
            LogGroupName=Sub(f"/ecs/${{EnvironmentName}}/{name}"),
        )
    )

    # -- image
    exec_statements: list[Statement] = []
    if c.image.repository is not None:
        repo = c.image.repository
        uri = ctx.import_value(ECR, repository_output(repo, "Uri"))
        image: Any = Sub("${Uri}:${ImageTag}", Uri=uri)
        exec_statements.append(
            statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [ctx.import_value(ECR, repository_output(repo, "Arn"))],
            )
        )
        exec_statements.append(statement(["ecr:GetAuthorizationToken"], ["*"]))
    else:
        image = Sub(f"{c.image.uri}:${{ImageTag}}")
    exec_statements.append(
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")])
    )

    # -- secrets: the execution role reads exactly these
    secrets = []
    by_action: dict[str, list[Any]] = {}
    for var, secret in sorted(c.secrets.items()):
        value_from, resource, action = _secret_value_from(var, secret, values, ctx)
        secrets.append(ecs.Secret(Name=var, ValueFrom=value_from))
        if resource not in by_action.setdefault(action, []):
            by_action[action].append(resource)
    for action, resources in sorted(by_action.items()):
        exec_statements.append(statement([action], resources))

    execution_role = ctx.add(
        iam.Role(
            "ExecutionRole",
            AssumeRolePolicyDocument=task_trust(),
            Policies=[policy("ecs-agent", exec_statements)],
            Tags=ctx.name_tag(f"{name}-execution"),
        )
    )

    # -- task role: what the application may do
    task_statements: list[Statement] = []
    if exec_:
        task_statements.append(
            statement(
                [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                ["*"],
            )
        )
    volumes = []
    mounts = []
    for i, vol in enumerate(c.volumes):
        key = efs_key(vol.file_system)
        ap_arn = ctx.import_value(key, access_point_output(vol.access_point, "Arn"))
        actions = ["elasticfilesystem:ClientMount"]
        if not vol.read_only:
            actions.append("elasticfilesystem:ClientWrite")
        task_statements.append(
            statement(
                actions,
                [ctx.import_value(key, FS_ARN)],
                Condition=Condition(StringEquals({"elasticfilesystem:AccessPointArn": ap_arn})),
            )
        )
        vname = f"{vol.file_system}-{vol.access_point}-{i + 1}"
        volumes.append(
            ecs.Volume(
                Name=vname,
                EFSVolumeConfiguration=ecs.EFSVolumeConfiguration(
                    FilesystemId=ctx.import_value(key, FS_ID),
                    TransitEncryption="ENABLED",
                    AuthorizationConfig=ecs.AuthorizationConfig(
                        AccessPointId=ctx.import_value(
                            key, access_point_output(vol.access_point, "Id")
                        ),
                        IAM="ENABLED",
                    ),
                ),
            )
        )
        mounts.append(
            ecs.MountPoint(SourceVolume=vname, ContainerPath=vol.path, ReadOnly=vol.read_only)
        )
    for access in c.buckets:
        arn = ctx.import_value(bucket_key(access.bucket), BUCKET_ARN)
        objects = Sub(f"${{Arn}}/{access.prefix}*", Arn=arn)
        obj_actions = ["s3:GetObject"]
        if access.access == "read-write":
            obj_actions += ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"]
        task_statements.append(statement(obj_actions, [objects]))
        list_extra: dict[str, Any] = {}
        if access.prefix:
            list_extra["Condition"] = Condition(StringLike({"s3:prefix": [f"{access.prefix}*"]}))
        task_statements.append(statement(["s3:ListBucket"], [arn], **list_extra))
    task_props: dict[str, Any] = {
        "AssumeRolePolicyDocument": task_trust(),
        "Tags": ctx.name_tag(f"{name}-task"),
    }
    if task_statements:
        task_props["Policies"] = [policy("application", task_statements)]
    task_role = ctx.add(iam.Role("TaskRole", **task_props))

    # -- container
    env_vars = []
    for var, value in sorted(c.environment.items()):
        if isinstance(value, str):
            env_vars.append(ecs.Environment(Name=var, Value=value))
        else:
            resolved = values[var]
            env_vars.append(
                ecs.Environment(
                    Name=var,
                    Value=ctx.import_value(resolved.output.component, resolved.output.name),
                )
            )
    mappings = []
    for m in port_mappings:
        pm: dict[str, Any] = {
            "ContainerPort": m.container,
            "Protocol": m.protocol,
            "Name": f"{name}-{m.container}",
        }
        if network_mode == "bridge":
            pm["HostPort"] = m.host if m.host is not None else 0
        if m.app_protocol is not None:
            pm["AppProtocol"] = m.app_protocol
        mappings.append(ecs.PortMapping(**pm))
    container: dict[str, Any] = {
        "Name": name,
        "Image": image,
        "Essential": True,
        "Privileged": False,
        "ReadonlyRootFilesystem": c.writable_root is None,
        "LogConfiguration": ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(logs),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": name,
            },
        ),
    }
    if mappings:
        container["PortMappings"] = mappings
    if env_vars:
        container["Environment"] = env_vars
    if secrets:
        container["Secrets"] = secrets
    if c.command is not None:
        container["Command"] = c.command
    if c.entry_point is not None:
        container["EntryPoint"] = c.entry_point
    if mounts:
        container["MountPoints"] = mounts
    if c.health_check is not None:
        hc = c.health_check
        container["HealthCheck"] = ecs.HealthCheck(
            Command=hc.command,
            Interval=hc.interval,
            Timeout=hc.timeout,
            Retries=hc.retries,
            StartPeriod=hc.start_period,
        )
    if capacity == "ec2" and c.cpu not in FARGATE_SIZES:
        container["Cpu"] = c.cpu
    task_def_props: dict[str, Any] = {
        "Family": Sub(f"${{EnvironmentName}}-{name}"),
        "Cpu": str(c.cpu),
        "Memory": str(c.memory),
        "NetworkMode": network_mode,
        "RequiresCompatibilities": ["FARGATE" if capacity == "fargate" else "EC2"],
        "ExecutionRoleArn": GetAtt(execution_role, "Arn"),
        "TaskRoleArn": GetAtt(task_role, "Arn"),
        "ContainerDefinitions": [ecs.ContainerDefinition(**container)],
        "Tags": ctx.name_tag(name),
    }
    if volumes:
        task_def_props["Volumes"] = volumes
    if capacity == "fargate":
        task_def_props["RuntimePlatform"] = ecs.RuntimePlatform(
            OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"
        )
    task_def = ecs.TaskDefinition("TaskDefinition", **task_def_props)
    if c.writable_root is not None:
        waive(task_def, {"CKV_AWS_336": f"writable root filesystem: {c.writable_root}"})
    task_def = ctx.add(task_def)
    return TaskDefinitionParts(task_def, execution_role, task_role, logs)


# -- services: plan, groups, targets, attributes ----------------------------------------------


def effective_alarms(bp: Blueprint, svc: Service) -> ServiceAlarms | None:
    """A service's alarms: its own `alarms`, or the defaults when the blueprint has `alerts`."""
    if svc.alarms is not None:
        return svc.alarms
    return ServiceAlarms() if bp.alerts is not None else None


def _dependencies(bp: Blueprint, name: str, svc: Service) -> dict[str, Path_]:
    base: Path_ = ("services", name)
    routes = [
        (route.load_balancer, (*base, "routes", i, "load_balancer"))
        for i, route in enumerate(svc.routes)
    ]
    deps = container_dependencies(
        bp, base, svc, awsvpc=svc.network_mode == "awsvpc", load_balancers=routes
    )
    if effective_alarms(bp, svc) is not None:
        for dep in ops.alerts_dependency(bp):
            deps.setdefault(dep, (*base, "alarms"))
    deps.pop(service_key(name), None)
    return deps


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    weights = fargate_weights(bp)
    plans: list[StackPlan[Any]] = []
    for name, svc in bp.services.items():
        deps = _dependencies(bp, name, svc)
        namespace = svc.discovery or svc.service_connect is not None
        plans.append(
            StackPlan(
                component=service_key(name),
                title=f"ECS service {name}",
                build=build,
                spec=ServiceSpec(
                    name=name,
                    service=svc,
                    fargate_weights=weights,
                    values=resolve_values(bp, svc),
                    namespace=namespace,
                    alarms=effective_alarms(bp, svc),
                ),
                depends_on=tuple(deps),
                source=("services", name),
                dependency_sources=deps,
            )
        )
    return plans


def groups(bp: Blueprint) -> Derived:
    out = Derived()
    known = targets(bp)
    for name, svc in bp.services.items():
        own = group_of(bp, name)
        if svc.network_mode == "awsvpc":
            out.groups[own] = SecurityGroup(
                description=f"ECS service {name} tasks", egress=svc.egress
            )
            out.sources[own] = ("services", name)
        for route in svc.routes:
            lb = bp.load_balancers.get(route.load_balancer)
            port = container_port(svc, route)
            if lb is None or port is None:
                continue
            mapping = next((m for m in svc.port_mappings if m.container == port), None)
            target_port = mapping.host if mapping and mapping.host else port
            out.relations.append(
                Relation(
                    lb_key(route.load_balancer),
                    own,
                    target_port,
                    f"Load balancer {route.load_balancer} to service {name}",
                )
            )
        out.relations.extend(container_relations(own, f"Service {name}", svc, known))
    return out


def service_targets(bp: Blueprint) -> list[Target]:
    out = []
    for name, svc in bp.services.items():
        ports = [
            (m.host or m.container) if svc.network_mode == "bridge" else m.container
            for m in svc.port_mappings
            if m.protocol == "tcp"
        ]
        out.append(
            Target(
                name=name,
                kind="service",
                group=group_of(bp, name),
                ports=tuple(ports),
                source=("services", name),
            )
        )
    return out


@dataclass(frozen=True)
class Address:
    """How other components reach a service by name: `host:port`."""

    host: str
    port: int


def address(bp: Blueprint, name: str) -> Address | None:
    """A service's name in Cloud Map (`<name>.<namespace>`) or its Service Connect alias."""
    svc = bp.services[name]
    if svc.discovery and svc.network_mode == "awsvpc" and svc.port_mappings:
        return Address(f"{name}.{namespace_name(bp)}", svc.port_mappings[0].container)
    if svc.service_connect is not None and svc.service_connect.aliases:
        alias = svc.service_connect.aliases[0]
        return Address(alias.dns_name or name, alias.client_port or alias.port)
    return None


def service_attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    """`host`, `port` and `url` of every service others can reach by name."""
    out: dict[str, dict[str, Attribute]] = {}
    for name in bp.services:
        if address(bp, name) is None:
            continue
        key = service_key(name)
        out[name] = {
            "host": Attribute(Output(key, HOST), "value", "DNS name clients use"),
            "port": Attribute(Output(key, PORT), "value", "Port clients use"),
            "url": Attribute(Output(key, URL), "value", "http://host:port"),
        }
    return out


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
    found = address(ctx.blueprint, name)
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
        ops.add_alarm(
            ctx,
            "RunningTasksAlarm",
            description=f"Service {name}: fewer tasks running than desired for 10 minutes",
            threshold=0,
            metrics=[
                ops.metric_query(
                    "desired", "ECS/ContainerInsights", "DesiredTaskCount", dims, "Maximum"
                ),
                ops.metric_query(
                    "running", "ECS/ContainerInsights", "RunningTaskCount", dims, "Minimum"
                ),
                ops.expression("missing", "desired - running", "Tasks missing"),
            ],
        )
    for title, metric, what, threshold in (
        ("CpuAlarm", "CPUUtilization", "CPU", alarms.cpu_percent),
        ("MemoryAlarm", "MemoryUtilization", "memory", alarms.memory_percent),
    ):
        if threshold is None:
            continue
        ops.add_alarm(
            ctx,
            title,
            description=f"Service {name}: average {what} above {threshold}% for 10 minutes",
            namespace="AWS/ECS",
            metric=metric,
            dimensions=dims,
            threshold=threshold,
        )
    bp = ctx.blueprint
    for lb_name, tg_output, port in routed:
        lb = bp.load_balancers[lb_name]
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
            ops.add_alarm(
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
            ops.add_alarm(
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
