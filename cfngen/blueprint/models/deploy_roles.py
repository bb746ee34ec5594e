"""CI deploy roles assumed through OIDC, scoped to this blueprint's own resources.

A provider kind is a model with a `provider` literal, added to `DeployRole`, and its trust
builder is added to cfngen.builders.deploy_roles.TRUSTS.
"""

from typing import Annotated, Literal

from pydantic import Field

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, LogRetention, Model, Name, Waiver
from cfngen.blueprint.models.data import matching


class _DeployRoleBase(Model):
    oidc_provider_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$",
        description="An existing OIDC provider (default: this stack creates one).",
    )
    services: list[Name] | None = Field(
        None,
        min_length=1,
        description="Services the role may deploy (default: all of the blueprint's).",
    )
    repositories: list[Name] | None = Field(
        None,
        min_length=1,
        description="Repositories the role may push to (default: all of the blueprint's).",
    )
    max_session_hours: int = Field(1, ge=1, le=12, description="Longest session.")
    deploy_stacks: bool = Field(
        True,
        description="Let the role run `cfngen deploy` on this environment's stacks: change "
        "sets through a CloudFormation service role `<EnvironmentName>-<name>-cfn` that holds "
        "the resource permissions (the role may only pass that one), the deploy lock and the "
        "artifact bucket. false: only the provider's own permissions.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)


GITHUB_HOST = "token.actions.githubusercontent.com"
"""GitHub Actions' OIDC issuer (without https://)."""
GITHUB_AUDIENCE = "sts.amazonaws.com"
"""The audience GitHub Actions asks AWS tokens for."""


class GithubDeployRole(_DeployRoleBase):
    """GitHub Actions: the trust pins `aud` to sts.amazonaws.com and `sub` to one repo+branch."""

    provider: Literal["github"] = Field(description="github")
    repository: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/repository."
    )
    branch: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_./-]+$", description="Branch allowed to deploy."
    )
    environment: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="GitHub environment allowed to deploy (instead of a branch).",
    )

    def subject(self) -> str:
        if self.environment is not None:
            return f"repo:{self.repository}:environment:{self.environment}"
        return f"repo:{self.repository}:ref:refs/heads/{self.branch or 'main'}"


class GitlabPermissions(Model):
    """What the pipeline may do, each scoped to resources the blueprint names."""

    repositories: list[Name] = Field(
        default_factory=list,
        description="Repositories (in `repositories`) the pipeline pushes images to.",
    )
    run_command_on: list[Name] = Field(
        default_factory=list,
        description="Hosts the pipeline deploys to with SSM Run Command (AWS-RunShellScript).",
    )
    publish_sites: list[Name] = Field(
        default_factory=list,
        description="Sites whose bucket the pipeline uploads to and whose distribution it "
        "invalidates.",
    )
    deploy_logs: bool = Field(True, description="A deploy log group the pipeline may write to.")


class GitlabDeployRole(Model):
    """An IAM role GitLab CI jobs assume with their ID token (OIDC).

    The trust pins the audience (`aud`) and the subject (`sub`) to one project and one branch
    ; no wildcards.
    """

    provider: Literal["gitlab"] = Field(description="gitlab")
    url: Annotated[
        str,
        matching(
            r"^https://[a-z0-9.-]+(:\d+)?(/[A-Za-z0-9._-]+)*$",
            "GitLab URL",
            "https://gitlab.example.com",
        ),
    ] = Field(
        "https://gitlab.com",
        description="The GitLab instance (issuer URL), e.g. https://gitlab.example.com.",
    )
    audience: str | None = Field(
        None,
        min_length=1,
        description="`aud` of the ID token (the `aud` in .gitlab-ci.yml `id_tokens`; "
        "default: url).",
    )
    project: Annotated[
        str,
        matching(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$", "GitLab project path", "acme/platform"),
    ] = Field(
        description="Project path, e.g. connexing/platform.",
    )
    branch: Annotated[str, matching(r"^[A-Za-z0-9._/-]+$", "branch or tag", "main")] = Field(
        description="Branch (or tag, see ref_type) whose pipelines may assume the role, e.g. "
        "main; protect it in GitLab so only maintainers can push to it.",
    )
    ref_type: Literal["branch", "tag"] = Field("branch", description="branch or tag.")
    oidc_provider_arn: (
        Annotated[
            str,
            matching(
                r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$",
                "OIDC provider ARN",
                "arn:aws:iam::123456789012:oidc-provider/gitlab.com",
            ),
        ]
        | None
    ) = Field(
        None,
        description="An existing IAM OIDC provider for this GitLab (default: created in this "
        "stack; an account has at most one per URL).",
    )
    permissions: GitlabPermissions = Field(
        default_factory=GitlabPermissions,
        description="What the role may do.",
    )
    log_retention_days: LogRetention = Field(30, description="Deploy log group retention.")
    deploy_stacks: bool = Field(
        True,
        description="Let the role run `cfngen deploy` on this environment's stacks: change "
        "sets through a CloudFormation service role `<EnvironmentName>-<name>-cfn` that holds "
        "the resource permissions (the role may only pass that one), the deploy lock and the "
        "artifact bucket. false: only the provider's own permissions.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @property
    def host(self) -> str:
        return self.url.removeprefix("https://")

    @property
    def aud(self) -> str:
        return self.audience or self.url

    @property
    def sub(self) -> str:
        """GitLab's default `sub` claim: project_path:{project}:ref_type:{type}:ref:{ref}."""
        return f"project_path:{self.project}:ref_type:{self.ref_type}:ref:{self.branch}"


DeployRole = Annotated[GithubDeployRole | GitlabDeployRole, Field(discriminator="provider")]
"""A deploy role, by `provider`: github (ECS deploys) or gitlab (hosts, sites, images)."""
