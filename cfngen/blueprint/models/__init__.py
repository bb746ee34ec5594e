"""The typed blueprint. Nothing after validation sees an untyped dict.

One module per area; this module assembles the root `Blueprint` model. The JSON Schema that
`cfngen schema` prints is generated from these classes, so descriptions here are user docs.
"""

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from cfngen.blueprint.models.common import Model, Name, Region, fail
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
    "SharedScope",
    "StackSetSettings",
]


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$")


class StackSetSettings(Model):
    """How the stacks of a multi-region environment (`regions`) deploy through CloudFormation
    StackSets with self-managed permissions (docs/deploying.md#many-regions-stacksets)."""

    administration_role: str | None = Field(
        None,
        description="ARN of the StackSets administration role in the deploying account "
        "(default: AWS's AWSCloudFormationStackSetAdministrationRole of that account).",
    )
    execution_role: str = Field(
        "AWSCloudFormationStackSetExecutionRole",
        description="Name of the StackSets execution role in the environment's account.",
    )
    region_concurrency: Literal["sequential", "parallel"] = Field(
        "sequential",
        description="Deploy the regions one after the other, in the order of `regions` (a "
        "failure stops before the next region), or all at once.",
    )
    failure_tolerance: int = Field(
        0,
        ge=0,
        le=1,
        description="Regions that may fail before a stack set operation stops: 0 stops at the "
        "first failure (required in production), 1 lets the other regions go on.",
    )

    @field_validator("execution_role")
    @classmethod
    def _execution_role(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9+=,.@_-]{1,64}$", value):
            raise fail(
                f"'{value}' is not an IAM role name",
                "letters, digits and +=,.@_- only, at most 64, e.g. "
                "AWSCloudFormationStackSetExecutionRole",
            )
        return value

    @field_validator("administration_role")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and _ROLE_ARN.match(value) is None:
            raise fail(
                f"'{value}' is not an IAM role ARN",
                "e.g. arn:aws:iam::111122223333:role/AWSCloudFormationStackSetAdministrationRole",
            )
        return value

    def settings(self) -> dict[str, str | int]:
        """What the manifest records, and deploy reads back."""
        out: dict[str, str | int] = {
            "execution_role": self.execution_role,
            "region_concurrency": self.region_concurrency,
            "failure_tolerance": self.failure_tolerance,
        }
        if self.administration_role is not None:
            out["administration_role"] = self.administration_role
        return out


class DeploySettings(Model):
    """How cfngen deploys this environment, and where: the AWS account it belongs to and how to
    reach it. Every command that talks to AWS checks the caller's account first."""

    termination_protection: bool = Field(
        False, description="Enable stack termination protection (turn on for production)."
    )
    account: str | None = Field(
        None,
        pattern=r"^[0-9]{12}$",
        description="The AWS account ID this environment lives in; commands refuse to run with "
        "credentials of another account.",
    )
    profile: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.+@-]{1,128}$",
        description="AWS profile to use (a --profile flag wins).",
    )
    role_arn: str | None = Field(
        None,
        description="Role cfngen assumes from the caller's credentials, e.g. "
        "arn:aws:iam::111122223333:role/cfngen-deploy.",
    )
    external_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9+=,.@:/-]{2,1224}$",
        description="External ID the role's trust policy asks for.",
    )
    cloudformation_role: str | None = Field(
        None,
        description="CloudFormation service role the change sets run with (RoleARN), e.g. "
        "arn:aws:iam::111122223333:role/shop-prod-github-cfn, the service role of a deploy "
        "role (deploy_roles.<name>.deploy_stacks); a --role-arn flag wins.",
    )
    session_name: str = Field(
        "cfngen",
        pattern=r"^[A-Za-z0-9+=,.@-]{2,64}$",
        description="Role session name (shows in CloudTrail).",
    )
    stack_sets: StackSetSettings = Field(
        default_factory=StackSetSettings,
        description="StackSets roles and operation preferences, for an environment with "
        "several `regions`.",
    )

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.role_arn is not None:
            match = _ROLE_ARN.match(self.role_arn)
            if match is None:
                raise fail(
                    f"'{self.role_arn}' is not an IAM role ARN",
                    "e.g. arn:aws:iam::111122223333:role/cfngen-deploy",
                )
            if self.account is not None and match.group(1) != self.account:
                raise fail(
                    f"the role is in account {match.group(1)}, the environment in {self.account}",
                    "use a role of the environment's account",
                )
        if self.cloudformation_role is not None:
            match = _ROLE_ARN.match(self.cloudformation_role)
            if match is None:
                raise fail(
                    f"cloudformation_role '{self.cloudformation_role}' is not an IAM role ARN",
                    "e.g. arn:aws:iam::111122223333:role/shop-prod-github-cfn",
                )
            if self.account is not None and match.group(1) != self.account:
                raise fail(
                    f"cloudformation_role is in account {match.group(1)}, the environment in "
                    f"{self.account}",
                    "use a role of the environment's account",
                )
        if self.external_id is not None and self.role_arn is None:
            raise fail("external_id applies to an assumed role", "set role_arn, or remove it")
        return self

    def target(self) -> dict[str, str]:
        """What the manifest records of where and how the environment deploys."""
        out = {
            "account": self.account,
            "profile": self.profile,
            "role_arn": self.role_arn,
            "external_id": self.external_id,
            "cloudformation_role": self.cloudformation_role,
        }
        if self.role_arn is not None:
            out["session_name"] = self.session_name
        return {k: v for k, v in out.items() if v is not None}


def is_role_arn(value: str) -> bool:
    return _ROLE_ARN.match(value) is not None


class SharedScope(Model):
    """Components that belong to the system rather than to one environment (ECR repositories
    that dev and prod pull from), deployed once as the environment `shared` (`cfngen deploy
    BLUEPRINT --env shared`), in its own account and region. Environments use them by name
    (`image: {repository: payload}`) without exports: their names and ARNs are known, and the
    shared stacks grant every environment's account what it needs.

    The sections a scope may hold are added by cfngen.registry from the kinds that allow it."""

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

    region: Region | None = Field(
        None, description="Region of the shared stacks (default: the blueprint's `region`)."
    )
    deploy: DeploySettings = Field(
        default_factory=DeploySettings,
        description="Where the shared stacks live and how cfngen reaches that account.",
    )


def _check_logical_id(value: str) -> str:
    if not _LOGICAL_ID.match(value):
        raise fail(
            f"'{value}' is not a logical ID CloudFormation accepts",
            "use letters and digits only (at most 255), e.g. ExtraBucket",
        )
    return value


_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
LogicalId = Annotated[str, AfterValidator(_check_logical_id)]


class ResourceAttributes(Model):
    """CloudFormation resource attributes of a rendered resource, set by an override."""

    DependsOn: list[LogicalId] = Field(
        default_factory=list,
        description="Resources of this stack to create first (added to the rendered ones).",
    )
    Condition: LogicalId | None = Field(
        None, description="A condition of the stack (see `conditions`) the resource exists under."
    )
    DeletionPolicy: Literal["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"] | None = Field(
        None, description="What happens to the resource when it leaves the stack."
    )
    UpdateReplacePolicy: Literal["Delete", "Retain", "Snapshot"] | None = Field(
        None, description="What happens to the old resource when an update replaces it."
    )
    UpdatePolicy: dict[str, Any] | None = Field(
        None, description="How updates roll out (Auto Scaling groups, ...), replacing any."
    )
    CreationPolicy: dict[str, Any] | None = Field(
        None, description="Signals to wait for before the resource counts as created."
    )
    Metadata: dict[str, Any] = Field(
        default_factory=dict, description="Metadata, deep-merged into the rendered metadata."
    )


class Override(Model):
    """Escape hatch for one stack: raw CloudFormation merged into what cfngen renders.

    Checked against CloudFormation's resource schemas (cfn-lint's, in-process) when the
    blueprint is validated, at the override's own lines.
    """

    resources: dict[LogicalId, dict[str, Any]] = Field(
        default_factory=dict,
        description="Extra resources by logical ID, written as in a template "
        "({Type: ..., Properties: ...}). A logical ID the stack already renders is an error: "
        "use `replace` for that.",
    )
    replace: dict[LogicalId, dict[str, Any]] = Field(
        default_factory=dict,
        description="Resources that replace a rendered resource of the same logical ID, "
        "written as in a template.",
    )
    properties: dict[LogicalId, dict[str, Any]] = Field(
        default_factory=dict,
        description="Property overrides by logical ID, deep-merged into the rendered resource.",
    )
    outputs: dict[LogicalId, dict[str, Any]] = Field(
        default_factory=dict, description="Extra outputs by name ({Value: ..., Description: ...})."
    )
    attributes: dict[LogicalId, ResourceAttributes] = Field(
        default_factory=dict,
        description="Resource attributes of rendered or added resources by logical ID: "
        "DependsOn (added), Condition, DeletionPolicy, UpdateReplacePolicy, UpdatePolicy, "
        "CreationPolicy, Metadata (merged).",
    )
    conditions: dict[LogicalId, Any] = Field(
        default_factory=dict,
        description="Extra conditions by name ({Fn::Equals: [...]}), for `attributes.X.Condition`.",
    )
    containers: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")], dict[str, Any]] = (
        Field(
            default_factory=dict,
            description="Container definition properties by container name, merged into that "
            "container of the stack's task definition (lists of named items such as Environment "
            "and Secrets merge by Name; other lists replace).",
        )
    )


PRODUCTION_NAMES = frozenset({"prod", "production"})


class Blueprint(Model):
    """One system: its components and its environments.

    This class holds what every blueprint has; the sections of the component kinds
    (`services`, `databases`, ...) are added by cfngen.kinds, which derives the full model
    (`cfngen.kinds.BLUEPRINT`) from the list of kinds. Code reads a kind's section through its
    record (`SERVICES.entries(bp)`), typed; plain attribute access is typed `Any` (another
    kind's section, whose module may not be loaded, is read by attribute and annotated).
    """

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

    blueprint: Name = Field(description="System name; names stacks and EnvironmentName.")
    region: Region = Field(description="AWS region the system is deployed to.")
    regions: list[Region] = Field(
        default_factory=list,
        description="Every region this environment is deployed to, `region` (the home region) "
        "first, e.g. [eu-west-1, eu-central-1] for disaster recovery. The stacks that are the "
        "same in every region deploy through CloudFormation StackSets; global ones (IAM roles "
        "with fixed names, CloudFront, DNS records, budgets) stay in the home region.",
    )
    description: str | None = Field(
        None,
        max_length=1024,
        description="One line about the system (at most 1024 characters).",
    )
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
    shared: Any = Field(
        None,
        description="Components shared by every environment (deployed once as `--env shared`).",
    )

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value:
            return value
        home = info.data.get("region")
        if home is not None and value[0] != home:
            fix = (
                f"put {home} first: [{', '.join([home, *(r for r in value if r != home)])}]"
                if home in value
                else f"start the list with the home region, {home}, or change `region`"
            )
            raise fail(f"the first of `regions` must be `region` ({home}), not {value[0]}", fix)
        repeated = sorted({r for r in value if value.count(r) > 1})
        if repeated:
            raise fail(f"{', '.join(repeated)} is listed more than once", "name each region once")
        return value

    def deploy_regions(self) -> tuple[str, ...]:
        """The regions the environment deploys to: `regions`, or just `region`."""
        return tuple(self.regions) or (self.region,)


_ = FlowLogs, EgressRule, IngressRule  # re-exported
