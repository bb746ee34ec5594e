"""The task definition of a service or task: the `ImageTag` parameter, the log group, the
execution role (the ECS agent's: pull the image, write the log group, read exactly the secrets
the container names) and the task role (the application's: only what the blueprint grants).
They are always two roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs.aws import Statement
from msgspec import Struct
from troposphere import GetAtt, Parameter, Ref, Sub, ecs, iam

from cfngen.blueprint.aws_facts import ecr_repository_arn
from cfngen.blueprint.models.containers import Volume
from cfngen.blueprint.models.services import FARGATE_SIZES, ContainerSettings, PortMapping, Secret
from cfngen.blueprint.source import Path_
from cfngen.builders.base import Context
from cfngen.builders.common import log_group, waive
from cfngen.builders.containers import (
    ContainerView,
    ResolvedValue,
    container_views,
    granted,
    record_uses,
    render_value,
    resolve_values,
)
from cfngen.builders.iam import (
    grant_statements,
    permission_statements,
    policy,
    role_extras,
    ssm_parameter_arn,
    statement,
    task_trust,
)
from cfngen.builders.views import start_command

IMAGE_TAG = "ImageTag"


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


class TaskDefinitionParts(Struct, frozen=True):
    task_definition: ecs.TaskDefinition
    execution_role: iam.Role
    task_role: iam.Role
    log_group: Any


def _image(ctx: Context, view: ContainerView) -> tuple[Any, Any | None]:
    """The image value and, for a repository of the blueprint, its ARN (imported). The main
    container's tag is the ImageTag parameter; the others' are fixed."""
    tag = "${ImageTag}" if view.main else view.image.tag
    if view.image.repository is None:
        image = f"{view.image.uri}:{tag}"
        private = ecr_repository_arn(str(view.image.uri))  # a private ECR repository by URI
        return (Sub(image) if view.main else image), (Sub(private) if private else None)
    from cfngen.kinds.repository import shared_repositories, shared_repository_location

    if view.image.repository in shared_repositories(ctx.blueprint):
        uri, arn = shared_repository_location(ctx.blueprint, view.image.repository)
        return Sub(f"{uri}:{tag}"), Sub(arn)
    repo = ctx.facts.attributes[view.image.repository]
    uri = ctx.import_value(repo["uri"].output.component, repo["uri"].output.name)
    arn = ctx.import_value(repo["arn"].output.component, repo["arn"].output.name)
    return Sub(f"${{Uri}}:{tag}", Uri=uri), arn


def _volumes(
    ctx: Context, views: Sequence[ContainerView]
) -> tuple[list[Any], dict[str, list[Any]]]:
    """The task's volumes (EFS through an access point, or scratch) and each container's mount
    points. The main container's EFS volumes are named `<fs>-<ap>-<n>`, the others'
    `<fs>-<ap>-<container>-<n>`; scratch volumes by their name, shared by every container."""
    volumes: dict[str, Any] = {}
    mounts: dict[str, list[Any]] = {}
    for view in views:
        for i, mount in enumerate(view.mounts):
            if isinstance(mount, Volume):
                from cfngen.kinds.file_system import FS_ID, access_point_output, efs_key

                key = efs_key(mount.file_system)
                suffix = f"{i + 1}" if view.main else f"{view.name}-{i + 1}"
                vname = f"{mount.file_system}-{mount.access_point}-{suffix}"
                volumes[vname] = ecs.Volume(
                    Name=vname,
                    EFSVolumeConfiguration=ecs.EFSVolumeConfiguration(
                        FilesystemId=ctx.import_value(key, FS_ID),
                        TransitEncryption="ENABLED",
                        AuthorizationConfig=ecs.AuthorizationConfig(
                            AccessPointId=ctx.import_value(
                                key, access_point_output(mount.access_point, "Id")
                            ),
                            IAM="ENABLED",
                        ),
                    ),
                )
            else:
                vname = mount.scratch
                volumes.setdefault(vname, ecs.Volume(Name=vname))
            mounts.setdefault(view.name, []).append(
                ecs.MountPoint(
                    SourceVolume=vname, ContainerPath=mount.path, ReadOnly=mount.read_only
                )
            )
    return list(volumes.values()), mounts


def add_task_definition(
    ctx: Context,
    name: str,
    c: ContainerSettings,
    *,
    capacity: str = "fargate",
    network_mode: str = "awsvpc",
    port_mappings: Sequence[PortMapping] = (),
    exec_: bool = False,
    base: Path_ = (),
) -> TaskDefinitionParts:
    """The `ImageTag` parameter, log group, both roles and the task definition of one task: its
    main container and its extra ones.

    The task definition family is `${EnvironmentName}-<name>`; the execution role pulls exactly
    the task's images and reads exactly the secrets its containers name, the task role gets only
    what the blueprint grants.
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
    views = container_views(name, c, (), port_mappings)

    # -- execution role: pull the images, write the logs, read the secrets
    images: dict[str, Any] = {}
    repositories: list[Any] = []
    for view in views:
        images[view.name], arn = _image(ctx, view)
        if arn is not None and arn not in repositories:
            repositories.append(arn)
    exec_statements: list[Statement] = []
    if repositories:
        exec_statements.append(
            statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                repositories,
            )
        )
        exec_statements.append(statement(["ecr:GetAuthorizationToken"], ["*"]))
    exec_statements.append(
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(logs, "Arn")])
    )
    secrets: dict[str, list[Any]] = {}
    by_action: dict[str, list[Any]] = {}
    for view in views:
        values = resolve_values(ctx.facts, view)
        for var, secret in sorted(view.secrets.items()):
            value_from, resource, action = _secret_value_from(var, secret, values, ctx)
            secrets.setdefault(view.name, []).append(ecs.Secret(Name=var, ValueFrom=value_from))
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
    grants = granted(ctx.blueprint, ctx.facts, c)
    for _, _, _, grant in grants:
        task_statements += grant_statements(ctx, grant)
    task_props: dict[str, Any] = {
        "AssumeRolePolicyDocument": task_trust(),
        "Tags": ctx.name_tag(f"{name}-task"),
        **role_extras(ctx, c.permissions),
    }
    policies = []
    if task_statements:
        policies.append(policy("application", task_statements))
    if c.permissions.statements:
        policies.append(policy("blueprint", permission_statements(ctx, c.permissions)))
    if policies:
        task_props["Policies"] = policies
    task_role = ctx.add(iam.Role("TaskRole", **task_props))
    record_uses(ctx, "TaskRole", grants, base)

    # -- containers
    volumes, mounts = _volumes(ctx, views)
    addresses = {
        var: ctx.import_value(grant.address.component, grant.address.name)
        for _, _, var, grant in grants
        if var is not None and grant.address is not None
    }
    definitions = []
    for view in views:
        definitions.append(
            _container(
                ctx,
                view,
                image=images[view.name],
                logs=logs,
                secrets=secrets.get(view.name, []),
                mounts=mounts.get(view.name, []),
                extra_env=addresses if view.main else {},
                network_mode=network_mode,
                init_containers=[v.name for v in views if v.init] if not view.init else [],
                cpu=c.cpu
                if view.main and capacity == "ec2" and c.cpu not in FARGATE_SIZES
                else view.cpu,
            )
        )
    task_def_props: dict[str, Any] = {
        "Family": Sub(f"${{EnvironmentName}}-{name}"),
        "Cpu": str(c.cpu),
        "Memory": str(c.memory),
        "NetworkMode": network_mode,
        "RequiresCompatibilities": ["FARGATE" if capacity == "fargate" else "EC2"],
        "ExecutionRoleArn": GetAtt(execution_role, "Arn"),
        "TaskRoleArn": GetAtt(task_role, "Arn"),
        "ContainerDefinitions": definitions,
        "Tags": ctx.name_tag(name),
    }
    if volumes:
        task_def_props["Volumes"] = volumes
    if capacity == "fargate":
        task_def_props["RuntimePlatform"] = ecs.RuntimePlatform(
            OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"
        )
        if c.ephemeral_storage_gb is not None:
            task_def_props["EphemeralStorage"] = ecs.EphemeralStorage(
                SizeInGiB=c.ephemeral_storage_gb
            )
    task_def = ecs.TaskDefinition("TaskDefinition", **task_def_props)
    writable = [f"{v.name}: {v.writable_root}" for v in views if v.writable_root is not None]
    if writable:
        reason = "; ".join(writable) if len(views) > 1 else views[0].writable_root or ""
        waive(task_def, {"CKV_AWS_336": f"writable root filesystem: {reason}"})
    task_def = ctx.add(task_def)
    return TaskDefinitionParts(task_def, execution_role, task_role, logs)


def _container(
    ctx: Context,
    view: ContainerView,
    *,
    image: Any,
    logs: Any,
    secrets: list[Any],
    mounts: list[Any],
    extra_env: dict[str, Any],
    network_mode: str,
    init_containers: list[str],
    cpu: int | None,
) -> ecs.ContainerDefinition:
    """One container definition: image, logs, ports, environment, secrets, mounts, health check
    and the options every container has."""
    env: dict[str, Any] = {var: render_value(ctx, value) for var, value in view.environment.items()}
    env.update(extra_env)
    mappings = []
    for m in view.ports:
        pm: dict[str, Any] = {
            "ContainerPort": m.container,
            "Protocol": m.protocol,
            "Name": f"{view.name}-{m.container}",
        }
        if network_mode == "bridge":
            pm["HostPort"] = m.host if m.host is not None else 0
        if m.app_protocol is not None:
            pm["AppProtocol"] = m.app_protocol
        mappings.append(ecs.PortMapping(**pm))
    container: dict[str, Any] = {
        "Name": view.name,
        "Image": image,
        "Essential": view.essential,
        "Privileged": False,
        "ReadonlyRootFilesystem": view.writable_root is None,
        "LogConfiguration": ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(logs),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": view.name,
            },
        ),
    }
    if mappings:
        container["PortMappings"] = mappings
    if env:
        container["Environment"] = [
            ecs.Environment(Name=var, Value=value) for var, value in sorted(env.items())
        ]
    if secrets:
        container["Secrets"] = secrets
    if view.compositions:
        container["EntryPoint"], container["Command"] = start_command(view)
    else:
        if view.command is not None:
            container["Command"] = view.command
        if view.entry_point is not None:
            container["EntryPoint"] = view.entry_point
    if mounts:
        container["MountPoints"] = mounts
    if view.health_check is not None:
        hc = view.health_check
        container["HealthCheck"] = ecs.HealthCheck(
            Command=hc.command,
            Interval=hc.interval,
            Timeout=hc.timeout,
            Retries=hc.retries,
            StartPeriod=hc.start_period,
        )
    if cpu is not None:
        container["Cpu"] = cpu
    if view.memory is not None:
        container["MemoryReservation"] = view.memory
    options = view.options
    waits = {name: "SUCCESS" for name in init_containers}
    waits.update(options.wait_for)
    if waits:
        container["DependsOn"] = [
            ecs.ContainerDependency(ContainerName=name, Condition=condition)
            for name, condition in waits.items()
        ]
    if options.user is not None:
        container["User"] = options.user
    if options.working_directory is not None:
        container["WorkingDirectory"] = options.working_directory
    if options.ulimits:
        container["Ulimits"] = [
            ecs.Ulimit(Name=limit, SoftLimit=u.soft, HardLimit=u.hard)
            for limit, u in sorted(options.ulimits.items())
        ]
    if options.docker_labels:
        container["DockerLabels"] = dict(sorted(options.docker_labels.items()))
    if options.stop_timeout is not None:
        container["StopTimeout"] = options.stop_timeout
    if options.init_process:
        container["LinuxParameters"] = ecs.LinuxParameters(InitProcessEnabled=True)
    return ecs.ContainerDefinition(**container)
