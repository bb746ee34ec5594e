"""ECS services: one task definition and one service per entry, each in its own stack."""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

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
from cfngen.blueprint.models.security import EgressRule

# Fargate's valid task sizes: CPU units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def fargate_memory_hint(cpu: int) -> str:
    sizes = FARGATE_SIZES[cpu]
    return f"{sizes[0]}-{sizes[-1]}" if len(sizes) > 3 else ", ".join(map(str, sizes))


class Image(Model):
    """The container image: an ECR repository of this blueprint, or any image URI.

    The tag becomes the template parameter `ImageTag` (its default is `tag`), so a pipeline can
    deploy a new image with `--parameter-overrides ImageTag=...` without re-rendering.
    """

    repository: Name | None = Field(None, description="A repository under `repositories`.")
    uri: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9._-]*(:[0-9]+)?(/[a-z0-9._/-]+)?$",
        description="Image URI without tag, e.g. ghcr.io/dbward-dev/dbward-server.",
    )
    tag: str = Field("latest", description="Default image tag (template parameter ImageTag).")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.repository is None) == (self.uri is None):
            raise fail(
                "an image needs exactly one of `repository` or `uri`",
                "e.g. `repository: app` (declared under repositories) or `uri: ghcr.io/org/image`",
            )
        if not _TAG.match(self.tag):
            raise fail(f"invalid image tag '{self.tag}'", "e.g. latest or v1.2.3")
        return self


class PortMapping(Model):
    """A container port; `host` only in bridge network mode (EC2)."""

    container: Port = Field(description="Port the container listens on.")
    host: Port | None = Field(None, description="Host port (bridge network mode only).")
    protocol: Literal["tcp", "udp"] = Field("tcp", description="tcp or udp.")
    app_protocol: Literal["http", "http2", "grpc"] | None = Field(
        None, description="Application protocol for Service Connect."
    )


class ComponentValue(Model):
    """A typed reference to a value another component exports, e.g. a database's secret ARN."""

    from_: Name = Field(alias="from", description="The component that provides the value.")
    attribute: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Which value, e.g. secret_arn or endpoint."
    )
    key: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="For a secret: the JSON key inside it (e.g. password).",
    )


class Secret(Model):
    """A secret injected as an environment variable, by reference only (never a value).

    Written as `ssm:/path/to/parameter`, `secretsmanager:name` (optionally `#json-key`), or as a
    mapping `{from: component, attribute: secret_arn, key: ...}`. The execution role may read
    exactly the secrets its task names.
    """

    ssm: str | None = Field(
        None, pattern=r"^/[A-Za-z0-9_.\-/]+$", description="SSM parameter name (starts with /)."
    )
    secretsmanager: str | None = Field(
        None, pattern=r"^[A-Za-z0-9/_+=.@-]+$", description="Secrets Manager secret name."
    )
    key: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]+$", description="JSON key inside the secret."
    )
    from_: Name | None = Field(None, alias="from", description="Component providing the secret.")
    attribute: str | None = Field(None, description="Its attribute (kind secret_arn).")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        scheme, sep, rest = value.partition(":")
        if sep and scheme == "ssm":
            return {"ssm": rest}
        if sep and scheme == "secretsmanager":
            name, _, key = rest.partition("#")
            return {"secretsmanager": name, **({"key": key} if key else {})}
        raise fail(
            f"invalid secret reference '{value}'",
            "write ssm:/parameter/name, secretsmanager:secret-name[#json-key], or "
            "{from: component, attribute: secret_arn}",
        )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [s for s in (self.ssm, self.secretsmanager, self.from_) if s is not None]
        if len(sources) != 1:
            raise fail(
                "a secret needs exactly one of `ssm`, `secretsmanager` or `from`",
                "e.g. secretsmanager:dbward/database-url",
            )
        if self.from_ is not None and self.attribute is None:
            raise fail(
                "a secret `from` a component needs `attribute`", "e.g. attribute: secret_arn"
            )
        if self.ssm is not None and self.key is not None:
            raise fail("`key` applies to Secrets Manager secrets only", "remove `key`")
        return self


class HealthCheck(Model):
    """A container health check (run by the ECS agent inside the container)."""

    command: list[str] = Field(
        min_length=1,
        description="CMD-SHELL form as one string, or exec form as a list, e.g. "
        "['CMD-SHELL', 'curl -f http://localhost:3000/health || exit 1'].",
    )
    interval: int = Field(30, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails.")
    retries: int = Field(3, ge=1, le=10, description="Failures before unhealthy.")
    start_period: int = Field(0, ge=0, le=300, description="Grace seconds after start.")

    @field_validator("command", mode="before")
    @classmethod
    def _shell(cls, value: Any) -> Any:
        if isinstance(value, str):
            return ["CMD-SHELL", value]
        return value


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
    port: Port | None = Field(None, description="Container port (default: the service's first).")
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


class Volume(Model):
    """An EFS file system mounted through one of its access points (TLS + IAM authorisation)."""

    file_system: Name = Field(description="A file system under `file_systems`.")
    access_point: Name = Field(description="One of its access points.")
    path: str = Field(pattern=r"^/", description="Mount path in the container.")
    read_only: bool = Field(False, description="Mount read-only.")


class Autoscaling(Model):
    """Target tracking on the service's average CPU and/or memory utilisation."""

    min: int = Field(1, ge=0, le=1000, description="Fewest tasks.")
    max: int = Field(ge=1, le=1000, description="Most tasks.")
    cpu: int | None = Field(None, ge=10, le=95, description="Target average CPU %.")
    memory: int | None = Field(None, ge=10, le=95, description="Target average memory %.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min > self.max:
            raise fail(f"min ({self.min}) is larger than max ({self.max})", "lower min")
        if self.cpu is None and self.memory is None:
            raise fail("autoscaling needs a `cpu` or `memory` target", "e.g. cpu: 60")
        return self


class Deployment(Model):
    """Rolling deployment settings; the circuit breaker always rolls back a failed deploy."""

    minimum_healthy_percent: int = Field(100, ge=0, le=100, description="Lower bound in %.")
    maximum_percent: int = Field(200, ge=100, le=400, description="Upper bound in %.")


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


class ContainerSettings(Model):
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
    environment: dict[str, str | ComponentValue] = Field(
        default_factory=dict,
        description="Plain environment variables; a value may be a typed reference "
        "{from: component, attribute: name}. Never secrets (use `secrets`).",
    )
    secrets: dict[str, Secret] = Field(
        default_factory=dict, description="Environment variables from SSM / Secrets Manager."
    )
    health_check: HealthCheck | None = Field(None, description="Container health check.")
    volumes: list[Volume] = Field(default_factory=list, description="EFS mounts.")
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
        for name in value:
            if not _ENV_NAME.match(name):
                raise fail(
                    f"invalid environment variable name '{name}'",
                    "use letters, digits and underscores, not starting with a digit",
                )
        return value

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


class Service(ContainerSettings):
    """One ECS service with one essential container, in its own stack `service-<name>`."""

    capacity: Literal["fargate", "ec2"] = Field("fargate", description="Where tasks run.")
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

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.port is not None and self.ports:
            raise fail("give either `port` or `ports`, not both", "move `port` into `ports`")
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
