"""The network: one VPC, public and private subnets over N availability zones."""

import re
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from cfngen.blueprint.models.common import (
    WAIVERS_DESCRIPTION,
    Cidr,
    LogRetention,
    Model,
    Waiver,
    fail,
)

_SSM_PATH = r"^/[A-Za-z0-9_.\-/]{1,1010}$"
_EXPORT = r"^[A-Za-z0-9:_.-]{1,255}$"


class FromExport(Model):
    """A value read from an export of another stack (`{import: network-VpcId}`)."""

    import_: str = Field(alias="import", pattern=_EXPORT, description="The export's name.")


class FromParameter(Model):
    """A value read from an SSM parameter when the stack deploys (`{ssm: /network/vpc-id}`);
    for a list of subnets, a StringList parameter."""

    ssm: str = Field(pattern=_SSM_PATH, description="The parameter's name.")


def existing_ids(value: Any, prefix: str) -> Any:
    """Literal IDs of existing resources look like `<prefix>-<hex>` (imports and SSM parameters
    are read when the stack deploys)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str) and not re.fullmatch(prefix + r"-[0-9a-f]{8,17}", item):
            raise fail(
                f"'{item}' is not a {prefix} ID",
                f"e.g. {prefix}-0123456789abcdef0, {{import: export-name}} or {{ssm: /path}}",
            )
    return value


class ExistingNetwork(Model):
    """A VPC that already exists: cfngen creates no network resources and gives the other
    stacks these IDs under its own export names, so every component works unchanged."""

    vpc_id: str | FromExport | FromParameter = Field(
        description="vpc-..., {import: export}, or {ssm: /parameter}."
    )
    private_subnets: list[str] | FromExport | FromParameter = Field(
        description="Subnets for tasks, databases and caches: IDs, {import: export} of a "
        "comma-separated list, or {ssm: /parameter} of a StringList."
    )
    public_subnets: list[str] | FromExport | FromParameter | None = Field(
        None,
        description="Subnets for internet-facing load balancers (same forms); needed only by "
        "public components.",
    )

    @field_validator("vpc_id")
    @classmethod
    def _vpc(cls, value: Any) -> Any:
        return existing_ids(value, "vpc")

    @field_validator("private_subnets", "public_subnets")
    @classmethod
    def _subnets(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise fail("no subnets given", "list at least one subnet ID")
        return value if value is None else existing_ids(value, "subnet")


class FlowLogs(Model):
    """VPC flow logs to a CloudWatch Logs group."""

    traffic: Literal["ALL", "ACCEPT", "REJECT"] = Field("ALL", description="Which traffic to log.")
    retention_days: LogRetention = Field(90, description="Log group retention in days.")
    kms_key_arn: str | None = Field(
        None, description="Customer-managed KMS key for the log group (default: AWS-managed)."
    )


class Network(Model):
    """The VPC every other component lives in.

    Subnets are spread over the first N availability zones of the region (`Fn::GetAZs`), never
    hard-coded zone names. Subnet CIDRs are carved from the VPC CIDR unless given.
    """

    cidr: Cidr = Field("10.0.0.0/16", description="VPC CIDR block (/16 to /24).")
    availability_zones: int = Field(2, ge=1, le=6, description="How many AZs to spread over.")
    nat: Literal["single", "per-az", "none"] = Field(
        "single",
        description="NAT gateways for private subnets: one shared, one per AZ, or none.",
    )
    public_subnets: list[Cidr] | None = Field(
        None, description="One CIDR per AZ for public subnets (default: carved from `cidr`)."
    )
    private_subnets: list[Cidr] | None = Field(
        None, description="One CIDR per AZ for private subnets (default: carved from `cidr`)."
    )
    flow_logs: FlowLogs | None = Field(None, description="Enable VPC flow logs.")
    existing: ExistingNetwork | None = Field(
        None,
        description="Join a VPC that already exists instead of creating one (`cidr` is then "
        "its CIDR).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _existing_alone(self) -> Self:
        if self.existing is not None:
            made = [
                f
                for f in ("nat", "public_subnets", "private_subnets", "flow_logs")
                if f in self.model_fields_set
            ]
            if made:
                raise fail(
                    f"`{made[0]}` describes a VPC cfngen creates; this one exists",
                    f"remove `{made[0]}` (set it on the existing VPC itself)",
                )
        return self
