"""EC2 hosts: one instance running a Docker Compose project (connexing's shape).

Amazon Linux 2023 from the public SSM parameter, IMDSv2 only, an instance profile with Session
Manager, ECR pull and CloudWatch Logs, an encrypted gp3 data volume mounted at boot, and an ALB
target group of type `instance` when the host serves a load balancer.
"""

from typing import Annotated, Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cfngen.blueprint.models.boot import Init
from cfngen.blueprint.models.common import (
    USES_DESCRIPTION,
    WAIVERS_DESCRIPTION,
    Cidr,
    LogRetention,
    Model,
    Name,
    Port,
    Use,
    Waiver,
    fail,
)
from cfngen.blueprint.models.data import KmsKeyArn, matching
from cfngen.blueprint.models.permissions import Permissions
from cfngen.blueprint.models.security import IngressRule
from cfngen.blueprint.models.services import ComponentValue, Secret

EnvName = Annotated[
    str, matching(r"^[A-Za-z_][A-Za-z0-9_]*$", "environment variable name", "DB_PASSWORD")
]


class DataVolume(Model):
    """An encrypted gp3 EBS volume, attached and mounted at boot (formatted xfs when empty)."""

    size_gb: int = Field(ge=1, le=16384, description="Size in GB.")
    mount: Annotated[str, matching(r"^/[A-Za-z0-9_\-/]+$", "absolute path", "/data")] = Field(
        "/data", description="Mount point on the host."
    )
    iops: int | None = Field(None, ge=3000, le=16000, description="gp3 IOPS (default 3000).")
    throughput: int | None = Field(
        None, ge=125, le=1000, description="gp3 throughput in MiB/s (default 125)."
    )
    kms_key_arn: KmsKeyArn | None = Field(None, description="Customer-managed KMS key.")


class Compose(Model):
    """The Docker Compose project the host starts at boot (exactly one source)."""

    s3: (
        Annotated[
            str,
            matching(
                r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/.+$",
                "S3 URI",
                "s3://my-bucket/compose.yml",
            ),
        ]
        | None
    ) = Field(
        None,
        description="s3://bucket/key of the compose file (the instance may read exactly it).",
    )
    bucket: Name | None = Field(
        None, description="Or: a bucket of this blueprint (`buckets`) holding the compose file."
    )
    key: (
        Annotated[
            str, matching(r"^[A-Za-z0-9!_.*'()/-]+$", "object key", "compose/docker-compose.yml")
        ]
        | None
    ) = Field(
        None,
        description="Object key in `bucket`, e.g. compose/docker-compose.yml.",
    )
    inline: str | None = Field(
        None,
        min_length=1,
        max_length=12000,
        description="Or: the compose file itself (at most 12,000 characters).",
    )
    directory: Annotated[str, matching(r"^/[A-Za-z0-9_\-/]+$", "absolute path", "/data")] = Field(
        "/opt/app", description="Project directory on the host."
    )
    version: Annotated[str, matching(r"^\d+\.\d+\.\d+$", "version", "2.39.4")] = Field(
        "2.39.4",
        description="Docker Compose plugin version installed at boot.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [k for k in ("s3", "bucket", "inline") if getattr(self, k) is not None]
        if len(given) != 1:
            raise fail(
                "give exactly one of `s3`, `bucket` (with `key`) or `inline`"
                + (f" (got {', '.join(given)})" if given else ""),
                "e.g. `bucket: artifacts` and `key: compose/docker-compose.yml`",
            )
        if (self.bucket is None) != (self.key is None):
            raise fail("`bucket` and `key` go together", "give both, or use `s3:`")
        return self

    @property
    def bucket_and_key(self) -> tuple[str, str]:
        assert self.s3 is not None
        bucket, _, key = self.s3.removeprefix("s3://").partition("/")
        return bucket, key


class HealthCheck(Model):
    path: Annotated[str, matching(r"^/\S*$", "path", "/health")] = Field(
        "/", description="HTTP path."
    )
    matcher: Annotated[
        str, matching(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$", "HTTP code list", "200-399 or 200,302")
    ] = Field("200-399", description="Success codes.")
    interval_seconds: int = Field(30, ge=5, le=300, description="Interval.")


class TargetGroup(Model):
    """An ALB target group of type `instance` registering this host."""

    port: Port = Field(description="Port the host serves on, e.g. 8080.")
    protocol: Literal["HTTP", "HTTPS"] = Field("HTTP", description="Protocol to the host.")
    health_check: HealthCheck = Field(
        default_factory=HealthCheck,
        description="Health check.",
    )
    load_balancer: Name | None = Field(
        None,
        description="Application load balancer (in `load_balancers`) whose main listener "
        "forwards to this target group through a listener rule.",
    )
    host: Annotated[str, matching(r"^[a-z0-9*?.-]+$", "host name", "api.example.com")] | None = (
        Field(
            None,
            description="Listener rule: forward requests for this host name, e.g. api.example.com.",
        )
    )
    path: Annotated[str, matching(r"^/\S*$", "path", "/health")] | None = Field(
        None, description="Listener rule: path pattern (default /*)."
    )
    priority: int = Field(
        1000, ge=1, le=50000, description="Listener rule priority (services' rules use 10, 20 ...)."
    )


class HostAlarms(Model):
    """CloudWatch alarms (memory and disk need `agent: true`)."""

    cpu_percent: int | None = Field(80, ge=1, le=100, description="Average CPU above this.")
    memory_percent: int | None = Field(
        85, ge=1, le=100, description="Memory used above this (agent)."
    )
    disk_percent: int | None = Field(
        85, ge=1, le=100, description="Root and data volume used above this (agent)."
    )
    status_check: bool = Field(True, description="Alarm on failed EC2 status checks.")
    target_5xx_count: int | None = Field(
        10,
        ge=1,
        description="With a load balancer: 5xx responses from the host per 5 minutes above this.",
    )
    unhealthy: bool = Field(
        True, description="With a load balancer: alarm when the host fails its health check."
    )


class Host(Model):
    """One EC2 instance."""

    instance_type: Annotated[
        str, matching(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", "instance type", "t4g.xlarge")
    ] = Field(description="Instance type, e.g. t4g.xlarge.")
    architecture: Literal["arm64", "x86_64"] | None = Field(
        None,
        description="AMI architecture (default: arm64 for Graviton types such as t4g, "
        "else x86_64).",
    )
    subnet: Literal["public", "private"] = Field(
        "private", description="Which subnet tier (the first AZ's subnet)."
    )

    @field_validator("architecture")
    @classmethod
    def _matches_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        from cfngen.blueprint.instance_types import architecture

        kind = info.data.get("instance_type")
        if value is not None and isinstance(kind, str) and architecture(kind) != value:
            raise fail(
                f"{kind} runs {architecture(kind)} AMIs, not {value}",
                f"remove `architecture` or set it to {architecture(kind)}",
            )
        return value

    public_ip: bool = Field(
        False,
        description="Give the instance a public IP for outbound traffic (a public subnet "
        "without NAT); inbound traffic still only by its security group.",
    )
    root_volume_gb: int = Field(30, ge=8, le=16384, description="Root volume (gp3) size.")
    data_volume: DataVolume | None = Field(None, description="A data volume.")
    compose: Compose | None = Field(None, description="Docker Compose project started at boot.")
    target_group: TargetGroup | None = Field(
        None, description="Register the host in a target group for a load balancer."
    )
    ingress: list[IngressRule] = Field(
        default_factory=list,
        description="Inbound rules of the host's security group, e.g. from the load balancer's.",
    )
    ssh_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Networks allowed to SSH (port 22); closed when empty. Session Manager "
        "works without it.",
    )
    init: Init | None = Field(
        None,
        description="cfn-init at the end of the boot script (packages, files, commands, systemd "
        "services); CloudFormation waits for the host's signal before the stack completes.",
    )
    key_pair: str | None = Field(
        None,
        pattern=r"^[\x20-\x7E]{1,255}$",
        description="Name of an EC2 key pair for SSH (create it first: aws ec2 create-key-pair); "
        "needs ssh_cidrs.",
    )
    connects_to: list[Name] = Field(
        default_factory=list, description="Databases, caches, ... the host talks to."
    )
    uses: list[Use] = Field(default_factory=list, description=USES_DESCRIPTION)
    permissions: Permissions = Field(
        default_factory=Permissions,
        description="More rights for the instance role: IAM statements, managed policies, a "
        "permissions boundary.",
    )
    secrets: dict[EnvName, Secret] = Field(
        default_factory=dict,
        description="Variables written to the compose project's .env (mode 600) before every "
        "start, read by reference: `{from: app-db, attribute: secret_arn, key: password}`, "
        "`ssm:/path` or `secretsmanager:name[#key]`. The instance may read exactly these.",
    )
    environment: dict[EnvName, ComponentValue] = Field(
        default_factory=dict,
        description="Plain values of other components for the project's .env, e.g. "
        "`DB_HOST: {from: app-db, attribute: endpoint}` (never copied by hand).",
    )
    agent: bool = Field(
        True,
        description="Install the CloudWatch agent: container logs, memory and disk metrics.",
    )
    log_retention_days: LogRetention = Field(30, description="Host log group retention.")
    termination_protection: bool = Field(
        False, description="DisableApiTermination on the instance."
    )
    alarms: HostAlarms = Field(
        default_factory=HostAlarms,
        description="CloudWatch alarms (need `alerts`).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.key_pair is not None and not self.ssh_cidrs:
            raise fail(
                "a key pair without ssh_cidrs cannot be used: port 22 stays closed",
                "add ssh_cidrs (your office networks), or remove key_pair and use Session Manager",
            )
        for cidr in self.ssh_cidrs:
            if cidr.endswith("/0"):
                raise fail(
                    f"SSH from {cidr} opens port 22 to the internet",
                    "list your office networks, or use Session Manager",
                )
        if (self.secrets or self.environment) and self.compose is None:
            raise fail(
                "`secrets` and `environment` are written to the compose project's .env",
                "add `compose:`",
            )
        both = sorted(set(self.secrets) & set(self.environment))
        if both:
            raise fail(
                f"{both[0]} is both in `secrets` and `environment`", "keep it in one of them"
            )
        if self.public_ip and self.subnet != "public":
            raise fail("public_ip needs subnet: public", "set `subnet: public` or remove public_ip")
        return self

    @property
    def arch(self) -> str:
        if self.architecture:
            return self.architecture
        from cfngen.blueprint.instance_types import architecture

        return architecture(self.instance_type)
