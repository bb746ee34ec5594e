"""ECS services: one task definition and one service per entry, each in its own stack."""

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from cfngen.blueprint.models.cluster import FargateCapacity
from cfngen.blueprint.models.common import (
    USES_DESCRIPTION,
    WAIVERS_DESCRIPTION,
    LogRetention,
    Model,
    Name,
    Port,
    Use,
    Waiver,
    fail,
)
from cfngen.blueprint.models.containers import (
    FARGATE_SIZES,
    ComponentValue,
    ContainerOptions,
    EnvValue,
    HealthCheck,
    Image,
    Mount,
    PortMapping,
    ScratchMount,
    Secret,
    SecretValue,
    Sidecar,
    Volume,
    check_env_names,
    fargate_memory_hint,
)
from cfngen.blueprint.models.files import ConfigFile, check_file_path
from cfngen.blueprint.models.permissions import Permissions
from cfngen.blueprint.models.scaling import Autoscaling
from cfngen.blueprint.models.security import EgressRule

__all__ = [
    "FARGATE_SIZES",
    "ComponentValue",
    "HealthCheck",
    "Image",
    "PortMapping",
    "ScratchMount",
    "Secret",
    "Volume",
    "fargate_memory_hint",
]


class TargetHealthCheck(Model):
    """The load balancer's health check of the targets."""

    path: str = Field("/", max_length=1024, pattern=r"^/", description="HTTP path checked.")
    matcher: str = Field(
        "200-399", pattern=r"^[0-9]{3}([-,][0-9]{3})*$", description="Healthy HTTP codes."
    )
    protocol: Literal["HTTP", "HTTPS", "TCP"] = Field("HTTP", description="Check protocol.")
    interval: int = Field(30, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails.")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Successes to become healthy.")
    unhealthy_threshold: int = Field(2, ge=2, le=10, description="Failures to become unhealthy.")

    @model_validator(mode="after")
    def _timing(self) -> Self:
        if self.timeout >= self.interval:
            raise fail(
                f"timeout ({self.timeout}s) must be shorter than interval ({self.interval}s)",
                "lower timeout or raise interval",
            )
        return self


class Route(Model):
    """Traffic from a load balancer to this service.

    On an application load balancer a route may match `path` and/or `host`; a route without
    either is the listener's default. On a network load balancer a route names the `listener`
    port and gets that listener to itself.
    """

    load_balancer: Name = Field(description="A load balancer under `load_balancers`.")
    container: Name | None = Field(
        None,
        description="The container that receives the traffic, e.g. a proxy sidecar (default: "
        "the main container).",
    )
    port: Port | None = Field(
        None, description="Container port (default: the receiving container's first)."
    )
    listener: Port | None = Field(
        None, description="Listener port (NLB: required; ALB: default its main listener)."
    )
    path: str | None = Field(
        None,
        max_length=128,
        pattern=r"^/[A-Za-z0-9_.~/*?{}+-]*$",
        description="Path pattern (ALB, at most 128 characters), e.g. /api/*.",
    )
    host: str | None = Field(
        None,
        max_length=128,
        pattern=r"^[A-Za-z0-9*?.-]+$",
        description="Host header pattern (ALB, at most 128 characters).",
    )
    priority: int | None = Field(
        None, ge=1, le=50000, description="Rule priority (default: derived, most specific first)."
    )
    health_check: TargetHealthCheck = Field(
        default_factory=TargetHealthCheck,
        description="Target group health check.",
    )
    deregistration_delay: int = Field(30, ge=0, le=3600, description="Seconds to drain targets.")


class Deployment(Model):
    """Rolling deployment settings; the circuit breaker always rolls back a failed deploy."""

    minimum_healthy_percent: int = Field(100, ge=0, le=100, description="Lower bound in %.")
    maximum_percent: int = Field(200, ge=100, le=400, description="Upper bound in %.")
    rollback_on_alarms: bool = Field(
        False,
        description="Roll a deployment back when one of the service's alarms (CPU, memory, "
        "unhealthy targets, target 5xx) goes off during it (ECS deployment alarms).",
    )


class ServiceEvents(Model):
    """ECS events of the service sent to the alerts topic as they happen (EventBridge)."""

    deployment_failures: bool = Field(
        True, description="A deployment failed (and the circuit breaker rolled it back)."
    )
    stopped_tasks: bool = Field(
        False, description="A task stopped with a non-zero exit code, or failed to start."
    )


class ServiceConnectAlias(Model):
    """A name and port other services reach this one by (`http://server:3000`)."""

    port: Port = Field(description="Container port served.")
    dns_name: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$",
        description="Name clients use (default: the service name).",
    )
    client_port: Port | None = Field(None, description="Port clients use (default: port).")


class ServiceConnect(Model):
    """Service Connect: `aliases` serve this service; without them it is client-only."""

    aliases: list[ServiceConnectAlias] = Field(
        default_factory=list, description="What this service serves (empty: client only)."
    )


class Placement(Model):
    """Where tasks run. Private subnets without public IPs unless the blueprint says why."""

    subnets: Literal["private", "public"] = Field("private", description="Subnet tier.")
    assign_public_ip: bool = Field(False, description="Give each task a public IP.")
    reason: str | None = Field(
        None, min_length=10, description="Why tasks need public subnets or a public IP."
    )
    security_groups: list[Name] = Field(
        default_factory=list,
        max_length=4,
        description="More `security_groups` entries the tasks join besides their own (awsvpc), "
        "e.g. an existing group a platform's database admits.",
    )

    @model_validator(mode="after")
    def _explicit(self) -> Self:
        if (self.subnets == "public" or self.assign_public_ip) and not self.reason:
            raise fail(
                "public subnets or public IPs need a `reason`",
                "say why, e.g. reason: dev has no NAT gateway; tasks pull images directly",
            )
        if self.assign_public_ip and self.subnets == "private":
            raise fail(
                "a public IP is useless in a private subnet (no internet gateway route)",
                "set subnets: public, or assign_public_ip: false",
            )
        return self


class ContainerSettings(ContainerOptions):
    """What services and tasks share: one essential container, its roles, secrets and relations.

    `cfngen.builders.task_definition.add_task_definition` renders these settings for both
    kinds, so a task and a service with the same settings get the same task definition.
    """

    image: Image = Field(description="Container image.")
    cpu: int = Field(256, ge=128, le=16384, description="Task CPU units.")
    memory: int = Field(512, ge=128, le=122880, description="Task memory in MiB.")
    command: list[str] | None = Field(None, min_length=1, description="Overrides the image's CMD.")
    entry_point: list[str] | None = Field(
        None, min_length=1, description="Overrides the image's ENTRYPOINT."
    )
    environment: dict[str, EnvValue] = Field(
        default_factory=dict,
        description="Plain environment variables: text, a typed reference {from: component, "
        "attribute: name}, an export of another stack {import: name}, or a composition "
        "{format: 'http://${lb}/x', values: {lb: {from: web, attribute: dns_name}}}. Never "
        "secrets (use `secrets`).",
    )
    secrets: dict[str, SecretValue] = Field(
        default_factory=dict,
        description="Environment variables from SSM / Secrets Manager, or composed from them "
        "({format, values}) when the container starts.",
    )
    health_check: HealthCheck | None = Field(None, description="Container health check.")
    volumes: list[Mount] = Field(
        default_factory=list,
        description="Mounts of the main container: EFS file systems ({file_system, "
        "access_point, path}) and scratch volumes shared with its other containers "
        "({scratch, path}).",
    )
    permissions: Permissions = Field(
        default_factory=Permissions,
        description="More rights for the task role: IAM statements, managed policies, a "
        "permissions boundary.",
    )
    files: dict[Annotated[str, AfterValidator(check_file_path)], ConfigFile] = Field(
        default_factory=dict,
        description="Configuration files the main container finds at these paths when it "
        "starts ({path: {content: ...} or {secret: ...}}); each file's directory becomes a "
        "read-only volume holding only the declared files.",
        max_length=20,
    )
    containers: dict[Name, Sidecar] = Field(
        default_factory=dict,
        description="Extra containers of the task: sidecars, and init containers (`init: true`) "
        "that run to completion before the main container starts.",
    )
    ephemeral_storage_gb: int | None = Field(
        None, ge=21, le=200, description="Fargate task storage in GiB (default 20)."
    )
    writable_root: str | None = Field(
        None,
        min_length=10,
        description="Why the container needs a writable root filesystem (default: read-only).",
    )
    connects_to: list[Name] = Field(
        default_factory=list, description="Components this container opens connections to."
    )
    egress: list[EgressRule] | None = Field(
        None,
        description="Restricted outbound rules (default: all outbound). Relations such as "
        "connects_to and volumes add their own rules.",
    )
    uses: list[Use] = Field(default_factory=list, description=USES_DESCRIPTION)
    buckets: SkipJsonSchema[Any] = Field(None, exclude=True, description="Moved to `uses`.")
    placement: Placement = Field(
        default_factory=Placement,
        description="Subnets and public IPs.",
    )
    depends_on: list[Name] = Field(
        default_factory=list, description="Components deployed before this one."
    )
    log_retention_days: LogRetention = Field(30, description="Log group retention in days.")
    log_kms_key_arn: str | None = Field(None, description="KMS key for the log group.")
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @field_validator("buckets")
    @classmethod
    def _buckets_moved(cls, value: Any) -> Any:
        if value is not None:
            raise fail(
                "`buckets` is now part of `uses`",
                "write `uses: [{component: results, access: read-write, prefix: results/}]` "
                "(one entry per bucket; access read or read-write)",
            )
        return value

    @field_validator("environment", "secrets")
    @classmethod
    def _env_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_env_names(value)

    @model_validator(mode="after")
    def _env_or_secret(self) -> Self:
        both = set(self.environment) & set(self.secrets)
        if both:
            raise fail(
                f"{', '.join(sorted(both))} is both in environment and secrets",
                "keep it in secrets only",
            )
        return self

    @property
    def public(self) -> bool:
        return self.placement.assign_public_ip or self.placement.subnets == "public"


class ServiceAlarms(Model):
    """CloudWatch alarms of one service, sent to `alerts` when the blueprint has it.

    Rendered for every service when the blueprint has `alerts`, or for a service that sets
    `alarms` itself. A null threshold turns that alarm off.
    """

    running_below_desired: bool = Field(
        True,
        description="Alarm when fewer tasks run than desired for 10 minutes (Container "
        "Insights RunningTaskCount vs DesiredTaskCount).",
    )
    cpu_percent: int | None = Field(
        80, ge=1, le=100, description="Average CPU above this for 10 minutes (null: off)."
    )
    memory_percent: int | None = Field(
        80, ge=1, le=100, description="Average memory above this for 10 minutes (null: off)."
    )
    target_5xx_count: int | None = Field(
        10,
        ge=1,
        description="Per application load balancer route: target 5xx responses per 5 minutes "
        "above this (null: off).",
    )
    unhealthy: bool = Field(
        True, description="Per load balancer route: alarm when a target fails health checks."
    )


class CapacityMix(Model):
    """This service's own Fargate / Fargate Spot mix, instead of the cluster's default."""

    fargate: FargateCapacity | None = Field(None, description="Share on Fargate.")
    fargate_spot: FargateCapacity | None = Field(None, description="Share on Fargate Spot.")

    @model_validator(mode="after")
    def _mix(self) -> Self:
        shares = [s for s in (self.fargate, self.fargate_spot) if s is not None]
        if not shares:
            raise fail("the mix names no capacity", "add fargate: {} and/or fargate_spot: {}")
        if not any(s.weight > 0 for s in shares):
            raise fail("every weight is 0, so no task would be placed", "give one a weight")
        if sum(1 for s in shares if s.base > 0) > 1:
            raise fail(
                "only one capacity of a mix may have a base (ECS places those tasks first)",
                "keep base on one of them",
            )
        return self

    def weights(self) -> tuple[tuple[str, int, int], ...]:
        """(provider, weight, base) as the service's capacity provider strategy."""
        named = (("FARGATE", self.fargate), ("FARGATE_SPOT", self.fargate_spot))
        return tuple((p, s.weight, s.base) for p, s in named if s is not None)


class Service(ContainerSettings):
    """One ECS service with one essential container, in its own stack `service-<name>`."""

    capacity: Literal["fargate", "ec2"] = Field("fargate", description="Where tasks run.")
    ec2_group: Name | None = Field(
        None,
        description="One of the cluster's `ec2_groups` to run on (with capacity: ec2; default: "
        "the cluster's `ec2`).",
    )
    capacity_mix: CapacityMix | None = Field(
        None,
        description="This service's Fargate / Fargate Spot weights and base (default: the "
        "cluster's).",
    )
    network_mode: Literal["awsvpc", "bridge"] = Field(
        "awsvpc", description="awsvpc (own ENI and security group) or bridge (EC2 only)."
    )
    port: Port | None = Field(None, description="Shorthand for one tcp port mapping.")
    ports: list[PortMapping] = Field(default_factory=list, description="Port mappings.")
    exec: bool = Field(False, description="Enable ECS Exec (aws ecs execute-command).")
    desired_count: int = Field(1, ge=0, le=1000, description="Tasks to run.")
    autoscaling: Autoscaling | None = Field(None, description="Target-tracking autoscaling.")
    deployment: Deployment = Field(
        default_factory=Deployment,
        description="Rolling deployment limits.",
    )
    health_check_grace_period: int | None = Field(
        None, ge=0, le=2147483647, description="Seconds to ignore load balancer health checks."
    )
    routes: list[Route] = Field(default_factory=list, description="Load balancer routes.")
    discovery: bool = Field(
        False,
        description="Register in Cloud Map (DNS) as <name>.<namespace>; other components then "
        "take its `host`, `port` and `url` attributes.",
    )
    service_connect: ServiceConnect | None = Field(None, description="Service Connect.")
    alarms: ServiceAlarms | None = Field(
        None,
        description="CloudWatch alarms (default: on with these thresholds when the blueprint "
        "has `alerts`).",
    )
    events: ServiceEvents | None = Field(
        None, description="ECS events sent to `alerts` (EventBridge; needs alerts)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.port is not None and self.ports:
            raise fail("give either `port` or `ports`, not both", "move `port` into `ports`")
        if self.ec2_group is not None and self.capacity != "ec2":
            raise fail("ec2_group chooses EC2 capacity", "set capacity: ec2")
        if self.capacity_mix is not None and self.capacity != "fargate":
            raise fail(
                "capacity_mix mixes Fargate and Fargate Spot; this service runs on EC2",
                "remove capacity_mix, or set capacity: fargate",
            )
        if self.network_mode == "bridge" and self.capacity != "ec2":
            raise fail("bridge network mode needs EC2 capacity", "set capacity: ec2, or use awsvpc")
        if self.network_mode == "awsvpc" and any(p.host is not None for p in self.ports):
            raise fail(
                "host ports apply to bridge network mode only (awsvpc uses the container port)",
                "remove `host`, or set network_mode: bridge",
            )
        if self.network_mode == "bridge" and (
            self.placement.subnets == "public" or self.placement.assign_public_ip
        ):
            raise fail("placement applies to awsvpc network mode only", "remove `placement`")
        return self

    @property
    def port_mappings(self) -> list[PortMapping]:
        if self.port is not None:
            return [PortMapping(container=self.port)]
        return list(self.ports)
