"""CI deploy roles assumed through OIDC, scoped to this blueprint's own resources.

A provider kind is a model with a `provider` literal, added to `DeployRole`, and its trust
builder is added to cfngen.builders.deploy_roles.TRUSTS.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cfngen.blueprint.models.common import Model, Name


class _DeployRoleBase(Model):
    oidc_provider_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$",
        description="An existing OIDC provider (default: this stack creates one).",
    )
    services: list[Name] | None = Field(
        None, description="Services the role may deploy (default: all of the blueprint's)."
    )
    repositories: list[Name] | None = Field(
        None, description="Repositories the role may push to (default: all of the blueprint's)."
    )
    max_session_hours: int = Field(1, ge=1, le=12, description="Longest session.")


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


# One provider today, so a plain model: its `provider` errors point at the field. With a second
# provider this becomes `Annotated[GithubDeployRole | OtherRole, Field(discriminator="provider")]`.
DeployRole = GithubDeployRole
