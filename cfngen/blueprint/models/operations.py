"""Operations: the alerts topic, the monthly budget and the GitLab OIDC deploy role."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from cfngen.blueprint.models.common import LogRetention, Model, Name, fail
from cfngen.blueprint.models.data import matching

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise fail(f"invalid e-mail address '{value}'", "e.g. ops@example.com")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


class Alerts(Model):
    """An SNS topic (KMS-encrypted) every alarm and the budget notify, with e-mail subscribers."""

    emails: list[Email] = Field(
        default_factory=list,
        description="Addresses subscribed to the topic (each must confirm the e-mail AWS sends).",
    )


class Threshold(Model):
    percent: float = Field(gt=0, le=1000, description="Percent of the monthly limit.")
    type: Literal["actual", "forecasted"] = Field(
        "actual", description="Compare actual or forecasted spend."
    )


class Budget(Model):
    """An AWS Budgets monthly cost budget; notifications go to e-mails and the alerts topic."""

    monthly_limit_usd: float = Field(gt=0, description="Monthly cost limit in USD.")
    thresholds: list[Threshold] = Field(
        default_factory=lambda: [Threshold(percent=90, type="forecasted")],
        min_length=1,
        max_length=5,
        description="When to notify (AWS allows 5 notifications per budget).",
    )
    emails: list[Email] = Field(
        default_factory=list,
        max_length=10,
        description="Addresses notified directly (besides the alerts topic).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        seen = set()
        for t in self.thresholds:
            key = (t.percent, t.type)
            if key in seen:
                raise fail(f"threshold {t.percent:g}% {t.type} is listed twice", "keep one")
            seen.add(key)
        return self


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


class GitlabRole(Model):
    """An IAM role GitLab CI jobs assume with their ID token (OIDC).

    The trust pins the audience (`aud`) and the subject (`sub`) to one project and one branch
    ; no wildcards.
    """

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
    provider_arn: (
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
