"""A host's names and spec: what the host kind's plan and builder share."""

from __future__ import annotations

from msgspec import Struct

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.hosts import Host
from cfngen.builders.user_data import SecretRef
from cfngen.stacks import Output, component_key

INSTANCE_ID = "InstanceId"
PRIVATE_DNS = "PrivateDnsName"
TARGET_GROUP_ARN = "TargetGroupArn"
LOG_GROUP = "LogGroupName"
DATA_DEVICE = "/dev/sdf"

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"


PREFIX = "host"


def component(name: str) -> str:
    return component_key(PREFIX, name)


def hosts_of(bp: Blueprint) -> dict[str, Host]:
    """The blueprint's hosts, typed."""
    return dict(bp.hosts)


class ListenerRule(Struct, frozen=True):
    load_balancer: str  # stack component of the load balancer
    listener_output: str
    arn_output: str  # the load balancer's ARN (for the alarms' LoadBalancer dimension)
    priority: int
    host: str | None
    path: str | None


class HostSpec(Struct, frozen=True):
    name: str
    host: Host
    rule: ListenerRule | None
    compose_bucket: tuple[Output, Output] | None = None  # (name, arn) of a blueprint bucket
    secrets: tuple[SecretRef, ...] = ()
