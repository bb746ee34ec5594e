"""The ECS cluster: Fargate, Fargate Spot and/or EC2 capacity, Container Insights, Cloud Map."""

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from cfngen.blueprint.models.boot import Init, RollingUpdate
from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Name, Waiver, fail

_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")

ECS_AMI_AL2023 = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
ECS_AMI_AL2023_ARM64 = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"


def _check_instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise fail(f"invalid instance type '{value}'", "e.g. t3.small or m7g.large")
    return value


InstanceType = Annotated[str, AfterValidator(_check_instance_type)]


class FargateCapacity(Model):
    """Share of a service's tasks placed on this capacity (default capacity provider strategy)."""

    weight: int = Field(1, ge=0, le=1000, description="Relative share of tasks.")
    base: int = Field(0, ge=0, le=100000, description="Tasks always placed here first.")


class Ec2Capacity(Model):
    """EC2 instances in an Auto Scaling group over the private subnets, as a capacity provider.

    The AMI is the ECS-optimised image from AWS's public SSM parameter (never a hard-coded ID);
    instances require IMDSv2 and run with an instance profile that only has the ECS agent role.
    """

    instance_type: InstanceType = Field("t3.small", description="EC2 instance type.")
    min: int = Field(0, ge=0, le=1000, description="Minimum instances in the group.")
    max: int = Field(2, ge=1, le=1000, description="Maximum instances in the group.")
    ami_parameter: str | None = Field(
        None,
        pattern=r"^/aws/service/",
        description="Public SSM parameter holding the ECS-optimised AMI ID (default: AWS's "
        "Amazon Linux 2023 ECS AMI for the instance type's architecture, arm64 for Graviton).",
    )
    target_capacity: int = Field(
        100, ge=1, le=100, description="Managed scaling: target cluster utilisation in percent."
    )
    instance_warmup: int = Field(
        300, ge=0, le=10000, description="Seconds a new instance needs before it counts."
    )
    max_scaling_step: int = Field(10, ge=1, le=10000, description="Most instances added at once.")
    draining: bool = Field(True, description="Managed draining of tasks before termination.")
    root_volume_gb: int = Field(30, ge=30, le=16384, description="Encrypted root volume size.")
    weight: int = Field(1, ge=0, le=1000, description="Share in the default strategy.")
    base: int = Field(0, ge=0, le=100000, description="Tasks always placed here first.")
    init: Init | None = Field(
        None,
        description="cfn-init at launch (packages, files, commands, systemd services); each "
        "instance signals CloudFormation when it is ready.",
    )
    rolling_update: RollingUpdate | None = Field(
        None,
        description="Replace instances a batch at a time when the launch template changes "
        "(waiting for each batch's signals with `init`).",
    )

    @field_validator("ami_parameter")
    @classmethod
    def _matches_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        from cfngen.blueprint.instance_types import ami_parameter_architecture, architecture

        kind = info.data.get("instance_type")
        if value is None or not isinstance(kind, str):
            return value
        if ami_parameter_architecture(value) != architecture(kind):
            right = ECS_AMI_AL2023_ARM64 if architecture(kind) == "arm64" else ECS_AMI_AL2023
            raise fail(
                f"{kind} runs {architecture(kind)} AMIs; this parameter names "
                f"{ami_parameter_architecture(value)} ones",
                f"remove `ami_parameter` or use {right}",
            )
        return value

    @property
    def ami(self) -> str:
        """The AMI parameter: the given one, or AWS's ECS AMI for the type's architecture."""
        from cfngen.blueprint.instance_types import architecture

        if self.ami_parameter:
            return self.ami_parameter
        return (
            ECS_AMI_AL2023_ARM64 if architecture(self.instance_type) == "arm64" else ECS_AMI_AL2023
        )

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.min > self.max:
            raise fail(
                f"min ({self.min}) is larger than max ({self.max})", "lower min or raise max"
            )
        update = self.rolling_update
        if update is not None and update.min_in_service >= self.max:
            raise fail(
                f"rolling_update keeps {update.min_in_service} instances in service, but the "
                f"group has at most {self.max}: no instance could be replaced",
                f"lower min_in_service below {self.max}",
            )
        if update is not None and self.init is not None and update.pause_minutes == 0:
            raise fail(
                "rolling_update.pause_minutes is 0, but with `init` it is how long each new "
                "batch of instances has to signal: every rolling update would fail",
                "remove pause_minutes (it then follows init.timeout_minutes) or raise it",
            )
        return self


class ServiceConnectDefaults(Model):
    """The Cloud Map namespace services register in and reach each other through."""

    namespace: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$",
        max_length=253,
        description="Private DNS namespace name (default: <blueprint>.internal).",
    )


class Cluster(Model):
    """One ECS cluster per environment; services choose Fargate or EC2 capacity.

    With neither `fargate` nor `ec2` given, Fargate is used.
    """

    fargate: FargateCapacity | None = Field(None, description="Fargate capacity.")
    fargate_spot: FargateCapacity | None = Field(
        None, description="Fargate Spot capacity (mixed with Fargate by weight)."
    )
    ec2: Ec2Capacity | None = Field(None, description="EC2 capacity provider.")
    ec2_groups: dict[Name, Ec2Capacity] = Field(
        default_factory=dict,
        description="More EC2 capacity, one Auto Scaling group and capacity provider each (e.g. "
        "GPU or memory-optimised instances); a service chooses one with `ec2_group`. Groups are "
        "not in the default strategy.",
        max_length=10,
    )
    container_insights: Literal["enabled", "enhanced", "disabled"] = Field(
        "enabled", description="CloudWatch Container Insights."
    )
    service_connect: ServiceConnectDefaults = Field(
        default_factory=ServiceConnectDefaults,
        description="Cloud Map namespace, created when a service uses discovery or "
        "Service Connect.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @property
    def has_ec2(self) -> bool:
        """Whether the cluster has EC2 instances (the default capacity or a group)."""
        return self.ec2 is not None or bool(self.ec2_groups)

    @property
    def uses_fargate(self) -> bool:
        return self.fargate is not None or self.fargate_spot is not None or not self.has_ec2
