"""The network: one VPC, public and private subnets over N availability zones."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Cidr, LogRetention, Model, Waiver


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
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)
