"""Service stacks `service-<name>`: task definition, execution and task roles, log group, the
ECS service, and its optional autoscaling and Cloud Map registration.

The execution role (used by the ECS agent) may pull the image, write the log group and read
exactly the secrets the task names; the task role (used by the application) gets only what the
blueprint grants (buckets, file systems, ECS Exec). They are always two roles.
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
)
from troposphere import GetAtt, Join, Parameter, Ref, Split, Sub, ecs, iam
from troposphere import applicationautoscaling as aas
from troposphere import servicediscovery as sd

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.services import FARGATE_SIZES, Secret, Service
from cfngen.blueprint.source import Path_
from cfngen.builders import cluster as cluster_builder
from cfngen.builders import network, security
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
    NAMESPACE_ARN,
    NAMESPACE_ID,
    SERVICE_NAME,
    TASK_ROLE_ARN,
    access_point_output,
    bucket_key,
    container_port,
    efs_key,
    lb_key,
    repository_output,
    service_key,
    target_group_output,
)
from cfngen.builders.relations import Attribute, Target, attributes, targets
from cfngen.builders.security import Derived, Relation
from cfngen.stacks import Output

IMAGE_TAG = "ImageTag"


def group_of(bp: Blueprint, name: str) -> str:
    """The security group a service's tasks use: its own (awsvpc) or the instances' (bridge)."""
    svc = bp.services[name]
    return service_key(name) if svc.network_mode == "awsvpc" else cluster_builder.INSTANCE_GROUP


def component_stack(bp: Blueprint, name: str) -> str | None:
    """The stack component key of any named component, via the kinds' published providers."""
    if name in bp.services:
        return service_key(name)
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


def _dependencies(bp: Blueprint, name: str, svc: Service) -> dict[str, Path_]:
    base: Path_ = ("services", name)
    deps: dict[str, Path_] = {
        network.COMPONENT: base,
        CLUSTER: (*base, "capacity"),
    }
    if svc.network_mode == "awsvpc":
        deps[security.COMPONENT] = base
    if svc.image.repository is not None:
        deps[ECR] = (*base, "image", "repository")
    for i, route in enumerate(svc.routes):
        deps.setdefault(lb_key(route.load_balancer), (*base, "routes", i, "load_balancer"))
    for i, vol in enumerate(svc.volumes):
        deps.setdefault(efs_key(vol.file_system), (*base, "volumes", i, "file_system"))
    for i, access in enumerate(svc.buckets):
        deps.setdefault(bucket_key(access.bucket), (*base, "buckets", i, "bucket"))
    attrs = attributes(bp)
    for var, value in svc.environment.items():
        if not isinstance(value, str):
            attr = attrs.get(value.from_, {}).get(value.attribute)
            if attr is not None:
                deps.setdefault(attr.output.component, (*base, "environment", var, "from"))
    for var, secret in svc.secrets.items():
        if secret.from_ is not None and secret.attribute is not None:
            attr = attrs.get(secret.from_, {}).get(secret.attribute)
            if attr is not None:
                deps.setdefault(attr.output.component, (*base, "secrets", var, "from"))
    for i, other in enumerate(svc.depends_on):
        key = component_stack(bp, other)
        if key is not None:
            deps.setdefault(key, (*base, "depends_on", i))
    deps.pop(service_key(name), None)
    return deps


def _values(bp: Blueprint, svc: Service) -> dict[str, ResolvedValue]:
    attrs = attributes(bp)
    out: dict[str, ResolvedValue] = {}
    refs: list[tuple[str, str, str]] = [
        (var, v.from_, v.attribute) for var, v in svc.environment.items() if not isinstance(v, str)
    ]
    refs += [
        (var, s.from_, s.attribute)
        for var, s in svc.secrets.items()
        if s.from_ is not None and s.attribute is not None
    ]
    for var, comp, attr_name in refs:
        attr = attrs.get(comp, {}).get(attr_name)
        if attr is not None:
            out[var] = ResolvedValue(attr.output, attr)
    return out


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    cluster = cluster_builder.effective(bp)
    plans: list[StackPlan[Any]] = []
    for name, svc in bp.services.items():
        weights: list[tuple[str, int, int]] = []
        if cluster is not None:
            if cluster.fargate is not None or (
                cluster.fargate_spot is None and cluster.uses_fargate
            ):
                f = cluster.fargate
                weights.append(("FARGATE", f.weight if f else 1, f.base if f else 0))
            if cluster.fargate_spot is not None:
                weights.append(
                    ("FARGATE_SPOT", cluster.fargate_spot.weight, cluster.fargate_spot.base)
                )
        deps = _dependencies(bp, name, svc)
        plans.append(
            StackPlan(
                component=service_key(name),
                title=f"ECS service {name}",
                build=build,
                spec=ServiceSpec(
                    name=name,
                    service=svc,
                    fargate_weights=tuple(weights),
                    values=_values(bp, svc),
                    namespace=svc.discovery or svc.service_connect is not None,
                ),
                depends_on=tuple(deps),
                source=("services", name),
                dependency_sources=deps,
            )
        )
    return plans


# -- security groups and connection targets -----------------------------------------------


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
        for other in svc.connects_to:
            target = known.get(other)
            if target is None or target.group == own:
                continue
            for port in target.ports:
                out.relations.append(
                    Relation(own, target.group, port, f"Service {name} to {target.kind} {other}")
                )
        for vol in dict.fromkeys(v.file_system for v in svc.volumes):
            out.relations.append(
                Relation(own, efs_key(vol), 2049, f"Service {name} mounts file system {vol}")
            )
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


# -- the stack ------------------------------------------------------------------------------


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


def _statement(actions: list[str], resources: list[Any], **extra: Any) -> Statement:
    return Statement(
        Effect=Allow,
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=resources,
        **extra,
    )


def _policy(name: str, statements: list[Statement]) -> iam.Policy:
    return iam.Policy(
        PolicyName=name, PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements)
    )


def _secret_value_from(
    var: str, secret: Secret, spec: ServiceSpec, ctx: Context
) -> tuple[Any, Any, str]:
    """(ValueFrom, IAM resource, IAM action) for one secret."""
    if secret.ssm is not None:
        arn = Sub(
            f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{secret.ssm}"
        )
        return arn, arn, "ssm:GetParameters"
    if secret.secretsmanager is not None:
        base = (
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
            + secret.secretsmanager
        )
        key = f":{secret.key}::" if secret.key else ""
        return Sub(base + key), Sub(base + "-??????"), "secretsmanager:GetSecretValue"
    resolved = spec.values[var]
    arn = ctx.import_value(resolved.output.component, resolved.output.name)
    value = Sub(f"${{Arn}}:{secret.key}::", Arn=arn) if secret.key else arn
    return value, arn, "secretsmanager:GetSecretValue"


def build(spec: ServiceSpec, ctx: Context) -> None:
    svc = spec.service
    name = spec.name
    ctx.template.add_parameter(
        Parameter(
            IMAGE_TAG,
            Type="String",
            Default=svc.image.tag,
            AllowedPattern="^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
            Description="Image tag to deploy (override with --parameter-overrides).",
        )
    )
    logs = ctx.add(
        log_group(
            "LogGroup",
            svc.log_retention_days,
            svc.log_kms_key_arn,
            LogGroupName=Sub(f"/ecs/${{EnvironmentName}}/{name}"),
        )
    )

    # -- image
    exec_statements: list[Statement] = []
    if svc.image.repository is not None:
        repo = svc.image.repository
        uri = ctx.import_value(ECR, repository_output(repo, "Uri"))
        image: Any = Sub("${Uri}:${ImageTag}", Uri=uri)
        exec_statements.append(
            _statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [ctx.import_value(ECR, repository_output(repo, "Arn"))],
            )
        )
        exec_statements.append(_statement(["ecr:GetAuthorizationToken"], ["*"]))
    else:
        image = Sub(f"{svc.image.uri}:${{ImageTag}}")
    exec_statements.append(
        _statement(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")])
    )

    # -- secrets: the execution role reads exactly these
    secrets = []
    by_action: dict[str, list[Any]] = {}
    for var, secret in sorted(svc.secrets.items()):
        value_from, resource, action = _secret_value_from(var, secret, spec, ctx)
        secrets.append(ecs.Secret(Name=var, ValueFrom=value_from))
        if resource not in by_action.setdefault(action, []):
            by_action[action].append(resource)
    for action, resources in sorted(by_action.items()):
        exec_statements.append(_statement([action], resources))

    execution_role = ctx.add(
        iam.Role(
            "ExecutionRole",
            AssumeRolePolicyDocument=task_trust(),
            Policies=[_policy("ecs-agent", exec_statements)],
            Tags=ctx.name_tag(f"{name}-execution"),
        )
    )

    # -- task role: what the application may do
    task_statements: list[Statement] = []
    if svc.exec:
        task_statements.append(
            _statement(
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
    for i, vol in enumerate(svc.volumes):
        key = efs_key(vol.file_system)
        ap_arn = ctx.import_value(key, access_point_output(vol.access_point, "Arn"))
        actions = ["elasticfilesystem:ClientMount"]
        if not vol.read_only:
            actions.append("elasticfilesystem:ClientWrite")
        task_statements.append(
            _statement(
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
    for access in svc.buckets:
        arn = ctx.import_value(bucket_key(access.bucket), BUCKET_ARN)
        objects = Sub(f"${{Arn}}/{access.prefix}*", Arn=arn)
        obj_actions = ["s3:GetObject"]
        if access.access == "read-write":
            obj_actions += ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"]
        task_statements.append(_statement(obj_actions, [objects]))
        list_extra: dict[str, Any] = {}
        if access.prefix:
            from awacs.aws import StringLike

            list_extra["Condition"] = Condition(StringLike({"s3:prefix": [f"{access.prefix}*"]}))
        task_statements.append(_statement(["s3:ListBucket"], [arn], **list_extra))
    task_props: dict[str, Any] = {
        "AssumeRolePolicyDocument": task_trust(),
        "Tags": ctx.name_tag(f"{name}-task"),
    }
    if task_statements:
        task_props["Policies"] = [_policy("application", task_statements)]
    task_role = ctx.add(iam.Role("TaskRole", **task_props))

    # -- container
    env_vars = []
    for var, value in sorted(svc.environment.items()):
        if isinstance(value, str):
            env_vars.append(ecs.Environment(Name=var, Value=value))
        else:
            resolved = spec.values[var]
            env_vars.append(
                ecs.Environment(
                    Name=var,
                    Value=ctx.import_value(resolved.output.component, resolved.output.name),
                )
            )
    port_mappings = []
    for m in svc.port_mappings:
        pm: dict[str, Any] = {
            "ContainerPort": m.container,
            "Protocol": m.protocol,
            "Name": f"{name}-{m.container}",
        }
        if svc.network_mode == "bridge":
            pm["HostPort"] = m.host if m.host is not None else 0
        if m.app_protocol is not None:
            pm["AppProtocol"] = m.app_protocol
        port_mappings.append(ecs.PortMapping(**pm))
    container: dict[str, Any] = {
        "Name": name,
        "Image": image,
        "Essential": True,
        "Privileged": False,
        "ReadonlyRootFilesystem": svc.writable_root is None,
        "LogConfiguration": ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(logs),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": name,
            },
        ),
    }
    if port_mappings:
        container["PortMappings"] = port_mappings
    if env_vars:
        container["Environment"] = env_vars
    if secrets:
        container["Secrets"] = secrets
    if svc.command is not None:
        container["Command"] = svc.command
    if svc.entry_point is not None:
        container["EntryPoint"] = svc.entry_point
    if mounts:
        container["MountPoints"] = mounts
    if svc.health_check is not None:
        hc = svc.health_check
        container["HealthCheck"] = ecs.HealthCheck(
            Command=hc.command,
            Interval=hc.interval,
            Timeout=hc.timeout,
            Retries=hc.retries,
            StartPeriod=hc.start_period,
        )
    if svc.capacity == "ec2" and svc.cpu not in FARGATE_SIZES:
        container["Cpu"] = svc.cpu
    task_def_props: dict[str, Any] = {
        "Family": Sub(f"${{EnvironmentName}}-{name}"),
        "Cpu": str(svc.cpu),
        "Memory": str(svc.memory),
        "NetworkMode": svc.network_mode,
        "RequiresCompatibilities": ["FARGATE" if svc.capacity == "fargate" else "EC2"],
        "ExecutionRoleArn": GetAtt(execution_role, "Arn"),
        "TaskRoleArn": GetAtt(task_role, "Arn"),
        "ContainerDefinitions": [ecs.ContainerDefinition(**container)],
        "Tags": ctx.name_tag(name),
    }
    if volumes:
        task_def_props["Volumes"] = volumes
    if svc.capacity == "fargate":
        task_def_props["RuntimePlatform"] = ecs.RuntimePlatform(
            OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"
        )
    task_def = ecs.TaskDefinition("TaskDefinition", **task_def_props)
    if svc.writable_root is not None:
        waive(task_def, {"CKV_AWS_336": f"writable root filesystem: {svc.writable_root}"})
    task_def = ctx.add(task_def)

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
        tier = (
            network.PUBLIC_SUBNETS if svc.placement.subnets == "public" else network.PRIVATE_SUBNETS
        )
        service_props["NetworkConfiguration"] = ecs.NetworkConfiguration(
            AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                Subnets=Split(",", ctx.import_value(network.COMPONENT, tier)),
                SecurityGroups=[
                    ctx.import_value(security.COMPONENT, security.group_output(service_key(name)))
                ],
                AssignPublicIp="ENABLED" if svc.placement.assign_public_ip else "DISABLED",
            )
        )
        if svc.public:
            public_reason = svc.placement.reason
    balancers = []
    seen: set[tuple[str, str]] = set()
    for route in svc.routes:
        port = container_port(svc, route)
        if port is None:
            continue
        ref = (lb_key(route.load_balancer), target_group_output(name, port))
        if ref in seen:
            continue
        seen.add(ref)
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
    if public_reason is not None:
        service.Metadata = {"cfngen": {"public_ip_reason": public_reason}}
        if svc.placement.assign_public_ip:
            waive(service, {"CKV_AWS_333": f"public IP by choice: {public_reason}"})
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

    ctx.export(SERVICE_NAME, GetAtt(service, "Name"), f"ECS service {name}")
    ctx.export(TASK_ROLE_ARN, GetAtt(task_role, "Arn"), f"Task role of service {name}")
    ctx.export(
        EXECUTION_ROLE_ARN, GetAtt(execution_role, "Arn"), f"Execution role of service {name}"
    )
    ctx.output("LogGroupName", Ref(logs), "Where the service's logs go")
