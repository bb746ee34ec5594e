"""The task definition of a service or task: the `ImageTag` parameter, the log group, the
execution role (the ECS agent's: pull the image, write the log group, read exactly the secrets
the container names) and the task role (the application's: only what the blueprint grants).
They are always two roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awacs.aws import Statement
from troposphere import GetAtt, Parameter, Ref, Sub, ecs, iam

from cfngen.blueprint.models.services import FARGATE_SIZES, ContainerSettings, PortMapping, Secret
from cfngen.builders.base import Context
from cfngen.builders.common import log_group, waive
from cfngen.builders.containers import ResolvedValue, granted
from cfngen.builders.iam import grant_statements, policy, ssm_parameter_arn, statement, task_trust
from cfngen.kinds.file_system import FS_ID, access_point_output, efs_key

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
        repo = ctx.facts.attributes[c.image.repository]
        uri = ctx.import_value(repo["uri"].output.component, repo["uri"].output.name)
        image: Any = Sub("${Uri}:${ImageTag}", Uri=uri)
        exec_statements.append(
            statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [ctx.import_value(repo["arn"].output.component, repo["arn"].output.name)],
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
    grants = granted(ctx.blueprint, ctx.facts, c)
    for _, _, _, grant in grants:
        task_statements += grant_statements(ctx, grant)
    volumes = []
    mounts = []
    for i, vol in enumerate(c.volumes):
        key = efs_key(vol.file_system)
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
    task_props: dict[str, Any] = {
        "AssumeRolePolicyDocument": task_trust(),
        "Tags": ctx.name_tag(f"{name}-task"),
    }
    if task_statements:
        task_props["Policies"] = [policy("application", task_statements)]
    task_role = ctx.add(iam.Role("TaskRole", **task_props))

    # -- container
    env: dict[str, Any] = {}
    for var, value in c.environment.items():
        if isinstance(value, str):
            env[var] = value
        else:
            resolved = values[var]
            env[var] = ctx.import_value(resolved.output.component, resolved.output.name)
    for _, _, address_var, grant in grants:
        if address_var is not None and grant.address is not None:
            env[address_var] = ctx.import_value(grant.address.component, grant.address.name)
    env_vars = [ecs.Environment(Name=var, Value=value) for var, value in sorted(env.items())]
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
