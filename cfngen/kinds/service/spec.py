"""A service's names, spec and address: what the service kind's plan, checks and builder share."""

from __future__ import annotations

from msgspec import Struct

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.services import (
    PortMapping,
    Route,
    Service,
    ServiceAlarms,
    ServiceConnectAlias,
)
from cfngen.kinds import alerts
from cfngen.kinds.cluster import (
    INSTANCE_GROUP,
    namespace_name,
)
from cfngen.stacks import component_key

# Outputs (deploy roles pass the roles; host, port and url are the service's attributes)
SERVICE_NAME = "ServiceName"
TASK_ROLE_ARN = "TaskRoleArn"
EXECUTION_ROLE_ARN = "ExecutionRoleArn"
TASK_DEFINITION_ARN = "TaskDefinitionArn"
HOST = "Host"
PORT = "Port"
URL = "Url"


PREFIX = "service"


def service_key(name: str) -> str:
    return component_key(PREFIX, name)


def services_of(bp: Blueprint) -> dict[str, Service]:
    """The blueprint's services, typed."""
    return dict(bp.services)


def group_of(svc: Service, name: str) -> str:
    """The security group a service's tasks use: its own (awsvpc) or the instances' (bridge)."""
    return service_key(name) if svc.network_mode == "awsvpc" else INSTANCE_GROUP


def ports_of(svc: Service, name: str, container: str | None = None) -> list[PortMapping]:
    """The port mappings of one container of the service (the main one by default)."""
    if container is None or container == name:
        return svc.port_mappings
    side = svc.containers.get(container)
    return list(side.ports) if side is not None else []


def all_ports(svc: Service, name: str) -> list[tuple[str, PortMapping]]:
    """(container, mapping) of every container of the service, the main one first."""
    out = [(name, m) for m in svc.port_mappings]
    out += [(cname, m) for cname, side in svc.containers.items() for m in side.ports]
    return out


def owner_of(svc: Service, name: str, port: int) -> str:
    """The container that declares `port` (the main one when none does)."""
    return next((c for c, m in all_ports(svc, name) if m.container == port), name)


def container_port(svc: Service, route: Route, name: str = "") -> int | None:
    """The port a route sends to: its own, or its container's first."""
    if route.port is not None:
        return route.port
    mappings = ports_of(svc, name, route.container)
    return mappings[0].container if mappings else None


def connect_discovery_name(svc: Service, name: str, alias: ServiceConnectAlias) -> str:
    """The Cloud Map service Service Connect creates for an alias: its DNS name, or with a
    `-connect` suffix when the service's own DNS registration (`discovery`) has that name (both
    live in one namespace, where names are unique)."""
    dns_name = alias.dns_name or name
    return f"{dns_name}-connect" if svc.discovery and dns_name == name else dns_name


class ServiceSpec(Struct, frozen=True):
    name: str
    service: Service
    fargate_weights: tuple[tuple[str, int, int], ...]  # (provider, weight, base)
    namespace: bool = False
    alarms: ServiceAlarms | None = None  # effective alarm settings (None: no alarms)
    address: Address | None = None  # how others reach it by name
    application_lbs: tuple[str, ...] = ()  # its routes' load balancers of type application


def effective_alarms(bp: Blueprint, svc: Service) -> ServiceAlarms | None:
    """A service's alarms: its own `alarms`, or the defaults when the blueprint has `alerts`."""
    if svc.alarms is not None:
        return svc.alarms
    return ServiceAlarms() if alerts.dependency(bp) else None


# --- what a service offers others -----------------------------------------------------------------


class Address(Struct, frozen=True):
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
