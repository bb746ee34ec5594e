"""The OIDC provider kind: IAM OIDC identity providers (GitHub Actions, GitLab), declared once in
the blueprint's `shared` scope (stack `oidc`).

An AWS account has at most one OIDC provider per issuer URL, so when several environments live
in one account their deploy roles cannot each create it. Declared in the shared scope, the
provider is created once in the scope's account, and every deploy role of an environment in that
account trusts it by its known ARN (`arn:<partition>:iam::<account>:oidc-provider/<host>`, no
export crosses scopes). Environments in other accounts keep creating their own (one account,
one provider), or name one with `oidc_provider_arn`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Self

from msgspec import Struct
from pydantic import Field, model_validator
from troposphere import GetAtt, iam

from cfngen.blueprint.environments import SHARED
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.common import Model, fail
from cfngen.blueprint.models.data import matching
from cfngen.blueprint.models.deploy_roles import GITHUB_AUDIENCE, GITHUB_HOST
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.kinds.base import Facts, Kind
from cfngen.stacks import logical_id

OIDC = "oidc"


class OidcProvider(Model):
    """An IAM OIDC identity provider the CI system's deploy roles trust. Declare it in the
    `shared` scope: it is created once in the scope's account, and the deploy roles of every
    environment in that account use it."""

    provider: Literal["github", "gitlab"] = Field(
        description="github (token.actions.githubusercontent.com) or gitlab (`url`)."
    )
    url: (
        Annotated[
            str,
            matching(
                r"^https://[a-z0-9.-]+(:\d+)?(/[A-Za-z0-9._-]+)*$",
                "GitLab URL",
                "https://gitlab.example.com",
            ),
        ]
        | None
    ) = Field(
        None,
        description="The GitLab instance (issuer URL; default https://gitlab.com). GitHub's is "
        "fixed.",
    )
    audiences: list[Annotated[str, Field(min_length=1, max_length=255)]] | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Client IDs (`aud`) the provider accepts (default: sts.amazonaws.com for "
        "GitHub, the URL for GitLab); every deploy role that uses the provider must pin one "
        "of them.",
    )

    @model_validator(mode="after")
    def _url(self) -> Self:
        if self.provider == "github" and self.url is not None:
            raise fail(
                "GitHub's issuer is fixed (https://token.actions.githubusercontent.com)",
                "remove `url`",
            )
        return self

    @property
    def host(self) -> str:
        """The issuer without https://, as IAM names the provider."""
        if self.provider == "github":
            return GITHUB_HOST
        return (self.url or "https://gitlab.com").removeprefix("https://")

    @property
    def client_ids(self) -> list[str]:
        if self.audiences is not None:
            return list(self.audiences)
        return [GITHUB_AUDIENCE] if self.provider == "github" else [f"https://{self.host}"]


def provider_output(name: str) -> str:
    return logical_id(name, "provider-arn")


def is_shared_scope(bp: Blueprint) -> bool:
    """Whether `bp` is the blueprint's shared scope compiled as an environment of its own
    (cfngen.blueprint.environments gives it exactly the one environment `shared`)."""
    return bp.shared is None and list(bp.environments) == [SHARED]


class SharedProvider(Struct, frozen=True):
    """A provider of the shared scope as an environment sees it."""

    name: str
    provider: OidcProvider
    account: str | None  # the scope's account (None: the environments' own)


def shared_providers(bp: Blueprint) -> dict[str, SharedProvider]:
    """The OIDC providers of the blueprint's shared scope by host (the shared scope's own when
    `bp` is that scope)."""
    if is_shared_scope(bp):
        entries, account = OIDC_PROVIDERS.entries(bp), bp.deploy.account
    elif bp.shared is not None:
        entries, account = dict(bp.shared.oidc_providers), bp.shared.deploy.account
    else:
        return {}
    return {p.host: SharedProvider(n, p, account) for n, p in entries.items()}


def provider_arn_text(account: str | None, host: str) -> str:
    """The ARN of the provider for `host`, as `Fn::Sub` text (IAM names it by its host)."""
    return f"arn:${{AWS::Partition}}:iam::{account or '${AWS::AccountId}'}:oidc-provider/{host}"


def same_account(bp: Blueprint, shared: SharedProvider) -> bool | None:
    """Whether this environment is in the shared provider's account: None when cfngen cannot
    tell (the scope names an account, the environment none)."""
    if is_shared_scope(bp) or shared.account is None:
        return True
    if bp.deploy.account is None:
        return None
    return bp.deploy.account == shared.account


# --- the kind -------------------------------------------------------------------------------------


class OidcSpec(Struct, frozen=True):
    providers: dict[str, OidcProvider]


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    providers = OIDC_PROVIDERS.entries(bp)
    if not providers:
        return []
    return [
        StackPlan(
            component=OIDC,
            title="OIDC identity providers",
            build=build,
            spec=OidcSpec(providers),
            source=("oidc_providers",),
        )
    ]


def build(spec: OidcSpec, ctx: Context) -> None:
    for name, provider in spec.providers.items():
        res = ctx.add(
            iam.OIDCProvider(
                logical_id(name, "provider"),
                Url=f"https://{provider.host}",
                ClientIdList=provider.client_ids,
                Tags=ctx.name_tag(f"oidc-{name}"),
            ),
            ("oidc_providers", name),
        )
        ctx.output(
            provider_output(name),
            GetAtt(res, "Arn"),
            f"OIDC provider for {provider.host}; deploy roles trust it by this ARN",
        )


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    providers: Mapping[str, OidcProvider] = OIDC_PROVIDERS.entries(bp)
    if providers and not is_shared_scope(bp):
        first = next(iter(providers))
        c.error(
            ("oidc_providers", first),
            "OIDC providers are declared in the shared scope (an account has one per URL)",
            "move them under `shared: {oidc_providers: ...}`, or let each deploy role create "
            "its own (the default)",
            at_key=True,
        )
        return
    seen: dict[str, str] = {}
    for name, provider in providers.items():
        if provider.host in seen:
            c.error(
                ("oidc_providers", name),
                f"'{seen[provider.host]}' is already the provider for {provider.host} (an "
                "account has one provider per URL)",
                "remove one, and list every audience under "
                f"shared.oidc_providers.{seen[provider.host]}",
                at_key=True,
            )
        seen.setdefault(provider.host, name)


OIDC_PROVIDERS: Kind[OidcProvider] = Kind(
    section="oidc_providers",
    model=OidcProvider,
    description="IAM OIDC identity providers for CI deploy roles (stack `oidc`; in the shared "
    "scope only).",
    prefix=OIDC,
    plan=plan,
    shared_stack=True,
    shareable=True,
    checks=(check,),
    names_components=False,
    order=55,
)
KIND = OIDC_PROVIDERS
