"""Wiring, a task's own reach: a Fargate task can get to the registries and AWS APIs it needs
to start, and its role can mount its file systems.

An environment check (`cfngen verify`): it follows the service's subnets, through imports, to
their route tables in the network stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import Resource, as_dict, as_list, check
from cfngen.verify.iam import missing, role_of
from cfngen.verify.model import Environment, Ref, Stack, partition
from cfngen.verify.network import Rules, groups_of

EnvHit = tuple[str, str, str]
_ENDPOINTS = ("ecr.api", "ecr.dkr", "s3", "logs")  # what a private task needs without NAT


def _routes(env: Environment) -> dict[Ref, dict[str, list[Ref]]]:
    """Subnet -> {"nat": [...], "igw": [...]}: its default routes (0.0.0.0/0)."""
    tables: dict[Any, list[Ref]] = {}
    for stack, assoc in env.of_type("AWS::EC2::SubnetRouteTableAssociation"):
        subnet = env.resolve(stack, assoc.props.get("SubnetId"))
        table = env.resolve(stack, assoc.props.get("RouteTableId"))
        if isinstance(subnet, Ref) and isinstance(table, Ref):
            tables.setdefault(table, []).append(subnet)
    out: dict[Ref, dict[str, list[Ref]]] = {}
    for stack, route in env.of_type("AWS::EC2::Route"):
        if route.props.get("DestinationCidrBlock") != "0.0.0.0/0":
            continue
        table = env.resolve(stack, route.props.get("RouteTableId"))
        kind = (
            "nat"
            if route.props.get("NatGatewayId") is not None
            else "igw"
            if route.props.get("GatewayId") is not None
            else "other"
        )
        for subnet in tables.get(table, []):
            out.setdefault(subnet, {}).setdefault(kind, []).append(Ref(stack.component, route.id))
    return out


def _endpoints(env: Environment) -> set[str]:
    found: set[str] = set()
    for stack, res in env.of_type("AWS::EC2::VPCEndpoint"):
        name = env.text(stack, res.props.get("ServiceName")) or ""
        found.update(e for e in _ENDPOINTS if name.endswith(f".{e}"))
    return found


def _fargate(env: Environment, stack: Stack, service: Resource) -> bool:
    if str(service.props.get("LaunchType", "")) == "FARGATE":
        return True
    for item in as_list(service.props.get("CapacityProviderStrategy")):
        provider = as_dict(item).get("CapacityProvider")
        if isinstance(provider, str) and provider.startswith("FARGATE"):
            return True
    task = env.resource(env.resolve(stack, service.props.get("TaskDefinition")))
    needs = as_list(task.props.get("RequiresCompatibilities")) if task else []
    return needs == ["FARGATE"]


@check(
    "CFG024",
    "Fargate task cannot reach the registry and AWS APIs",
    why="A Fargate task pulls its image, reads its secrets and ships its logs over its own "
    "network interface: in a private subnet it needs a NAT route or VPC endpoints, in a public "
    "subnet a public IP, and its security group must allow HTTPS out. Otherwise the task never "
    "starts (CannotPullContainerError).",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "fargate-task-networking.html",
    scope="environment",
)
def tasks_get_out(env: Environment) -> Iterator[EnvHit]:
    routes, endpoints, rules = _routes(env), _endpoints(env), Rules(env)
    for stack, service in env.of_type("AWS::ECS::Service"):
        net = as_dict(as_dict(service.props.get("NetworkConfiguration")).get("AwsvpcConfiguration"))
        if not net or not _fargate(env, stack, service):
            continue
        public_ip = str(net.get("AssignPublicIp", "DISABLED")) == "ENABLED"
        for subnet in env.items(stack, net.get("Subnets")):
            if not isinstance(subnet, Ref) or env.resource(subnet) is None:
                continue  # a subnet of another environment, or a parameter: not provable
            default = routes.get(subnet, {})
            if "nat" in default or "other" in default:
                continue
            if "igw" in default and public_ip:
                continue
            if set(_ENDPOINTS) <= endpoints:
                continue
            why = (
                "has an internet gateway route but the tasks get no public IP"
                if "igw" in default
                else "has no NAT route and the VPC lacks endpoints for "
                + ", ".join(e for e in _ENDPOINTS if e not in endpoints)
            )
            yield stack.component, service.id, f"subnet {subnet.id} {why}"
            break
        groups = groups_of(env, stack, net.get("SecurityGroups"))
        if groups and not rules.allows("egress", groups, [], 443, 443):
            yield (
                stack.component,
                service.id,
                "the tasks' security group does not allow HTTPS (443) out",
            )


@check(
    "CFG028",
    "Task role cannot mount the task's file system",
    why="An EFS volume with IAM authorization is mounted with the task role: without "
    "elasticfilesystem:ClientMount (and ClientWrite for a writable mount) on the file system, "
    "for the access point the volume uses, the task fails to start with a mount error.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html",
    scope="environment",
)
def task_role_mounts(env: Environment) -> Iterator[EnvHit]:
    for stack, task in env.of_type("AWS::ECS::TaskDefinition"):
        role = role_of(env, stack, task.props.get("TaskRoleArn"))
        writable = {
            str(as_dict(m).get("SourceVolume"))
            for c in as_list(task.props.get("ContainerDefinitions"))
            for m in as_list(as_dict(c).get("MountPoints"))
            if not as_dict(m).get("ReadOnly")
        }
        for volume in as_list(task.props.get("Volumes")):
            volume = as_dict(volume)
            efs = as_dict(volume.get("EFSVolumeConfiguration"))
            auth = as_dict(efs.get("AuthorizationConfig"))
            if str(auth.get("IAM", "")) != "ENABLED":
                continue
            fs = env.resolve(stack, efs.get("FilesystemId"))
            point = env.resolve(stack, auth.get("AccessPointId"))
            if isinstance(fs, str):  # an existing file system: its ARN in this account
                region = env.region
                fs = f"arn:{partition(region)}:elasticfilesystem:{region}:*:file-system/{fs}"
            elif not isinstance(fs, Ref):
                continue
            actions: tuple[str, ...] = ("elasticfilesystem:ClientMount",)
            if str(volume.get("Name")) in writable:
                actions += ("elasticfilesystem:ClientWrite",)
            if role is None:
                yield (
                    stack.component,
                    task.id,
                    (
                        f"volume {volume.get('Name')} mounts {_name(fs)} with IAM but has "
                        "no task role"
                    ),
                )
                continue
            lacking = missing(env, role, actions, fs, point if isinstance(point, Ref) else None)
            if lacking:
                yield (
                    stack.component,
                    task.id,
                    (
                        f"task role {role.id} cannot mount volume {volume.get('Name')} "
                        f"({_name(fs)}): missing {', '.join(lacking)}"
                    ),
                )


def _name(fs: Ref | str) -> str:
    """A file system as a finding names it: its logical ID, or an existing one's ARN."""
    return fs.id if isinstance(fs, Ref) else fs
