"""Names and cross-kind lookups shared by the container builders (cluster, services, load
balancers, APIs, ECR, EFS, buckets, deploy roles).

Component keys and output names of these kinds are spelled only here, so a builder that
imports another stack's output and the builder that exports it cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.load_balancers import LoadBalancer
from cfngen.blueprint.models.services import Route, Service
from cfngen.blueprint.source import Path_
from cfngen.stacks import logical_id

CLUSTER = "cluster"
ECR = "ecr"


def service_key(name: str) -> str:
    return f"service-{name}"


def lb_key(name: str) -> str:
    return f"lb-{name}"


def api_key(name: str) -> str:
    return f"api-{name}"


def efs_key(name: str) -> str:
    return f"efs-{name}"


def bucket_key(name: str) -> str:
    return f"bucket-{name}"


def deploy_role_key(name: str) -> str:
    return f"deploy-role-{name}"


# -- output names (the only spelling) -----------------------------------------------------

CLUSTER_NAME = "ClusterName"
CLUSTER_ARN = "ClusterArn"
EC2_CAPACITY_PROVIDER = "Ec2CapacityProvider"
NAMESPACE_ARN = "NamespaceArn"
NAMESPACE_ID = "NamespaceId"

LB_ARN = "LoadBalancerArn"
LB_DNS = "DnsName"
LB_ZONE = "CanonicalHostedZoneId"

SERVICE_NAME = "ServiceName"
TASK_ROLE_ARN = "TaskRoleArn"
EXECUTION_ROLE_ARN = "ExecutionRoleArn"

FS_ID = "FileSystemId"
FS_ARN = "FileSystemArn"

BUCKET_NAME = "BucketName"
BUCKET_ARN = "BucketArn"

API_URL = "Url"
ROLE_ARN = "RoleArn"


def listener_output(port: int) -> str:
    return f"Listener{port}Arn"


def target_group_output(service: str, port: int) -> str:
    return logical_id(service, str(port), "target-group-arn")


def repository_output(repo: str, what: str) -> str:
    """what: Uri | Arn | Name."""
    return logical_id(repo, "repository", what)


def access_point_output(ap: str, what: str) -> str:
    """what: Id | Arn."""
    return logical_id(ap, "access-point", what)


# -- routes as the load balancer sees them ------------------------------------------------


@dataclass(frozen=True)
class RouteTarget:
    """One service route resolved against its load balancer."""

    service: str
    index: int  # position in the service's routes
    route: Route
    listener: int  # listener port it attaches to
    container_port: int
    target_port: int  # port the load balancer sends to (host port in bridge mode)
    target_type: str  # ip | instance
    source: Path_

    @property
    def output(self) -> str:
        return target_group_output(self.service, self.container_port)


def container_port(svc: Service, route: Route) -> int | None:
    mappings = svc.port_mappings
    if route.port is not None:
        return route.port
    return mappings[0].container if mappings else None


def routes_to(bp: Blueprint, lb_name: str) -> list[RouteTarget]:
    """Every (valid) route of every service to one load balancer, in blueprint order."""
    lb = bp.load_balancers.get(lb_name)
    if lb is None:
        return []
    out = []
    for sname, svc in bp.services.items():
        for i, route in enumerate(svc.routes):
            if route.load_balancer != lb_name:
                continue
            port = container_port(svc, route)
            if port is None:
                continue
            mapping = next((m for m in svc.port_mappings if m.container == port), None)
            if mapping is None:
                continue
            target_port = mapping.host if svc.network_mode == "bridge" and mapping.host else port
            out.append(
                RouteTarget(
                    service=sname,
                    index=i,
                    route=route,
                    listener=route.listener or default_listener(lb),
                    container_port=port,
                    target_port=target_port,
                    target_type="instance" if svc.network_mode == "bridge" else "ip",
                    source=("services", sname, "routes", i),
                )
            )
    return out


def default_listener(lb: LoadBalancer) -> int:
    return lb.main_port


def uses_namespace(bp: Blueprint) -> bool:
    return any(s.discovery or s.service_connect is not None for s in bp.services.values())


def namespace_name(bp: Blueprint) -> str:
    cluster = bp.cluster
    if cluster is not None and cluster.service_connect.namespace:
        return cluster.service_connect.namespace
    return f"{bp.blueprint}.internal"
