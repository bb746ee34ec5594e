"""The typed blueprint. Nothing after validation sees an untyped dict.

One module per area; this module assembles the root `Blueprint` model. The JSON Schema that
`cfngen schema` prints is generated from these classes, so descriptions here are user docs.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cfngen.blueprint.models.common import Model, Name, Region
from cfngen.blueprint.models.network import FlowLogs, Network
from cfngen.blueprint.models.security import EgressRule, IngressRule, SecurityGroup

__all__ = [
    "Blueprint",
    "DeploySettings",
    "EgressRule",
    "FlowLogs",
    "IngressRule",
    "Model",
    "Network",
    "Override",
    "SecurityGroup",
]


class DeploySettings(Model):
    """How cfngen deploys this environment."""

    termination_protection: bool = Field(
        False, description="Enable stack termination protection (turn on for production)."
    )


class Override(Model):
    """Escape hatch for one stack: raw CloudFormation merged into what cfngen renders."""

    resources: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Extra resources by logical ID, written as in a template "
        "({Type: ..., Properties: ...}).",
    )
    properties: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Property overrides by logical ID, deep-merged into the rendered resource.",
    )
    outputs: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Extra outputs by name ({Value: ..., Description: ...})."
    )


class Blueprint(Model):
    """One system: its components and its environments."""

    blueprint: Name = Field(description="System name; names stacks and EnvironmentName.")
    region: Region = Field(description="AWS region the system is deployed to.")
    description: str | None = Field(None, description="One line about the system.")
    environment_name: str | None = Field(
        None,
        max_length=40,
        pattern=r"^[A-Za-z][A-Za-z0-9-]*$",
        description="EnvironmentName for this environment (default: <blueprint>-<env>).",
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags on every stack (and so every resource)."
    )
    vars: dict[str, Any] = Field(
        default_factory=dict, description="Template variables: {{ vars.NAME }}."
    )
    network: Network = Field(default_factory=Network, description="The VPC.")  # type: ignore[arg-type]
    security_groups: dict[Name, SecurityGroup] = Field(
        default_factory=dict, description="Explicit security groups by name."
    )
    deploy: DeploySettings = Field(
        default_factory=DeploySettings,  # type: ignore[arg-type]
        description="Deploy settings.",
    )
    overrides: dict[str, Override] = Field(
        default_factory=dict, description="Raw CloudFormation per stack component."
    )
    environments: dict[Name, dict[str, Any] | None] = Field(
        description="Environments by name; each value overrides the base document "
        "(mappings merge, lists replace)."
    )


_ = FlowLogs, EgressRule, IngressRule  # re-exported
