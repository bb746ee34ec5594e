"""The typed blueprint. Nothing after validation sees an untyped dict.

One module per area; this module assembles the root `Blueprint` model. The JSON Schema that
`cfngen schema` prints is generated from these classes, so descriptions here are user docs.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cfngen.blueprint.models.apis import Api
from cfngen.blueprint.models.cluster import Cluster
from cfngen.blueprint.models.common import Model, Name, Region
from cfngen.blueprint.models.data import Cache, Database, SearchDomain
from cfngen.blueprint.models.deploy_roles import DeployRole
from cfngen.blueprint.models.edge import Certificate, Dns, Site
from cfngen.blueprint.models.hosts import Host
from cfngen.blueprint.models.load_balancers import LoadBalancer
from cfngen.blueprint.models.network import FlowLogs, Network
from cfngen.blueprint.models.operations import Alerts, Budget
from cfngen.blueprint.models.repositories import Repository
from cfngen.blueprint.models.security import EgressRule, IngressRule, SecurityGroup
from cfngen.blueprint.models.services import Service
from cfngen.blueprint.models.storage import Bucket, FileSystem
from cfngen.blueprint.models.tasks import Task

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


PRODUCTION_NAMES = frozenset({"prod", "production"})


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
    production: bool | None = Field(
        None,
        description="Whether this environment is production, which turns on the production "
        "checks of `cfngen lint` (e.g. database backups and deletion protection). Default: "
        "true for environments named prod or production. Set it in `environments.<env>`.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags on every stack (and so every resource)."
    )
    vars: dict[str, Any] = Field(
        default_factory=dict, description="Template variables: {{ vars.NAME }}."
    )
    network: Network = Field(default_factory=Network, description="The VPC.")
    security_groups: dict[Name, SecurityGroup] = Field(
        default_factory=dict, description="Explicit security groups by name."
    )
    # -- containers and traffic (docs/containers.md) --
    cluster: Cluster | None = Field(
        None, description="The ECS cluster (created when services exist; defaults to Fargate)."
    )
    services: dict[Name, Service] = Field(
        default_factory=dict, description="ECS services, one stack each."
    )
    tasks: dict[Name, Task] = Field(
        default_factory=dict,
        description="ECS tasks run on a schedule or once per revision, one stack each.",
    )
    load_balancers: dict[Name, LoadBalancer] = Field(
        default_factory=dict, description="Application and network load balancers."
    )
    apis: dict[Name, Api] = Field(
        default_factory=dict, description="API Gateway APIs with a VPC link."
    )
    repositories: dict[Name, Repository] = Field(
        default_factory=dict, description="ECR repositories (stack `ecr`)."
    )
    deploy_roles: dict[Name, DeployRole] = Field(
        default_factory=dict, description="CI deploy roles assumed through OIDC."
    )
    file_systems: dict[Name, FileSystem] = Field(
        default_factory=dict, description="EFS file systems, one stack each."
    )
    buckets: dict[Name, Bucket] = Field(
        default_factory=dict, description="S3 data buckets, one long-lived stack each."
    )
    # -- data, edge and operations (docs/data-edge-ops.md) --
    databases: dict[Name, Database] = Field(
        default_factory=dict, description="RDS PostgreSQL/MySQL instances, one stack each."
    )
    caches: dict[Name, Cache] = Field(
        default_factory=dict, description="ElastiCache Redis replication groups, one stack each."
    )
    search_domains: dict[Name, SearchDomain] = Field(
        default_factory=dict, description="OpenSearch domains in the VPC, one stack each."
    )
    sites: dict[Name, Site] = Field(
        default_factory=dict, description="Static sites: S3 + CloudFront, one stack each."
    )
    dns: Dns | None = Field(None, description="The Route 53 hosted zone and alias records.")
    certificates: dict[Name, Certificate] = Field(
        default_factory=dict,
        description="ACM certificates in the blueprint's region (for load balancers).",
    )
    hosts: dict[Name, Host] = Field(
        default_factory=dict, description="EC2 hosts (Docker Compose), one stack each."
    )
    alerts: Alerts | None = Field(None, description="SNS topic every alarm and the budget notify.")
    budget: Budget | None = Field(None, description="Monthly AWS Budgets cost budget.")
    deploy: DeploySettings = Field(
        default_factory=DeploySettings,
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
