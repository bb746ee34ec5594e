"""Wiring, a task's own reach: a Fargate task can get to the registries and AWS APIs it needs
to start, and its role can mount its file systems.

An environment check (`cfngen verify`): it follows the service's subnets, through imports, to
their route tables in the network stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import Resource, as_bool, as_dict, as_list, check
from cfngen.verify.model import Environment, Ref, Stack
from cfngen.verify.network import Rules, groups_of, rules_of

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


_AGENT = ("ecs", "ecs-agent", "ecs-telemetry")  # the ECS agent's own endpoints, without NAT


def _out(
    default: dict[str, list[Ref]], public_ip: bool, endpoints: set[str], needed: tuple[str, ...]
) -> str | None:
    """Why a subnet's default routes give no way out, or None when they do."""
    if "nat" in default or "other" in default or ("igw" in default and public_ip):
        return None
    if set(needed) <= endpoints:
        return None
    if "igw" in default:
        return "has an internet gateway route but gets no public IP"
    return "has no NAT route and the VPC lacks endpoints for " + ", ".join(
        e for e in needed if e not in endpoints
    )


def _on_instances(
    env: Environment,
    stack: Stack,
    service: Resource,
    net: dict[str, Any],
    routes: dict[Ref, dict[str, list[Ref]]],
    endpoints: set[str],
    rules: Rules,
) -> Iterator[EnvHit]:
    """A service on EC2 capacity: awsvpc tasks reach AWS through their own interface (never a
    public IP on EC2), and the instances pull the images and run the agent through theirs."""
    for subnet in env.items(stack, net.get("Subnets")) if net else []:
        if isinstance(subnet, Ref) and env.resource(subnet) is not None:
            why = _out(routes.get(subnet, {}), False, endpoints, _ENDPOINTS)
            if why is not None:
                yield stack.component, service.id, f"subnet {subnet.id} of its awsvpc tasks {why}"
                break
    cluster = env.resolve(stack, service.props.get("Cluster"))
    home = env.stacks.get(cluster.component) if isinstance(cluster, Ref) else None
    if home is None:
        return
    for asg in home.view.of_type("AWS::AutoScaling::AutoScalingGroup"):
        spec = as_dict(asg.props.get("LaunchTemplate"))
        lt = env.resource(env.resolve(home, spec.get("LaunchTemplateId")))
        data = as_dict(lt.props.get("LaunchTemplateData")) if lt else {}
        nics = [as_dict(n) for n in as_list(data.get("NetworkInterfaces"))]
        public_ip = any(str(n.get("AssociatePublicIpAddress", "")).lower() == "true" for n in nics)
        groups = [
            g for g in env.resolve_all(home, data.get("SecurityGroupIds")) if isinstance(g, Ref)
        ]
        for n in nics:
            groups += [g for g in env.resolve_all(home, n.get("Groups")) if isinstance(g, Ref)]
        for subnet in env.items(home, asg.props.get("VPCZoneIdentifier")):
            if not isinstance(subnet, Ref) or env.resource(subnet) is None:
                continue
            res = env.resource(subnet)
            maps = res is not None and as_bool(res.props.get("MapPublicIpOnLaunch")) is True
            why = _out(routes.get(subnet, {}), public_ip or maps, endpoints, _ENDPOINTS + _AGENT)
            if why is not None:
                yield home.component, asg.id, f"subnet {subnet.id} of the container instances {why}"
                break
        if groups and not rules.allows("egress", groups, [], 443, 443):
            yield (
                home.component,
                asg.id,
                "the container instances' security group does not allow HTTPS (443) out",
            )


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
    "Task or container instance cannot reach the registry and AWS APIs",
    why="A Fargate task pulls its image, reads its secrets and ships its logs over its own "
    "network interface: in a private subnet it needs a NAT route or VPC endpoints, in a public "
    "subnet a public IP, and its security group must allow HTTPS out. On EC2 capacity the "
    "instances pull the images and run the ECS agent (the same, plus the agent's endpoints), "
    "and awsvpc tasks, which never get a public IP there, need NAT or endpoints. Otherwise the "
    "task never starts (CannotPullContainerError) or the instance never registers.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "fargate-task-networking.html",
    scope="environment",
)
def tasks_get_out(env: Environment) -> Iterator[EnvHit]:
    routes, endpoints, rules = _routes(env), _endpoints(env), rules_of(env)
    for stack, service in env.of_type("AWS::ECS::Service"):
        net = as_dict(as_dict(service.props.get("NetworkConfiguration")).get("AwsvpcConfiguration"))
        if not _fargate(env, stack, service):
            yield from _on_instances(env, stack, service, net, routes, endpoints, rules)
            continue
        if not net:
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
