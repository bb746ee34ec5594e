"""Which OIDC provider a deploy role trusts, and the provider collisions cfngen can see.

A role trusts, in this order: the provider it names (`oidc_provider_arn`); the shared scope's
provider for its issuer when the environment is in the scope's account (by its known ARN); or a
provider its own stack creates. An account has at most one provider per issuer URL, so two
environments of one account whose roles each create it collide on AWS (EntityAlreadyExists,
after the first deploys): a validation error here, at the second role, with the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from cfngen.blueprint.environments import SHARED
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.deploy_roles import GITHUB_AUDIENCE, GITHUB_HOST, GithubDeployRole
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker

if TYPE_CHECKING:
    from cfngen.kinds.oidc_provider import SharedProvider


class Issuer(Struct, frozen=True):
    host: str  # the provider's URL without https://
    audience: str  # the `aud` the role pins


def issuer(role: Any) -> Issuer:
    if isinstance(role, GithubDeployRole):
        return Issuer(GITHUB_HOST, GITHUB_AUDIENCE)
    return Issuer(role.host, role.aud)


def shared_provider_arn(bp: Blueprint, role: Any) -> str | None:
    """The shared scope's provider this role trusts (`Fn::Sub` text), or None: the role names
    one itself, or its stack creates one."""
    if role.oidc_provider_arn is not None:
        return None
    found = shared_providers(bp).get(issuer(role).host)
    if found is None:
        return None
    from cfngen.kinds.oidc_provider import provider_arn_text, same_account

    if not same_account(bp, found):
        return None
    return provider_arn_text(found.account, found.provider.host)


def shared_providers(bp: Blueprint) -> dict[str, SharedProvider]:
    """The shared scope's OIDC providers by host. The oidc_provider kind says which; it is
    loaded only for a blueprint that declares providers (with none, there are none)."""
    if not bp.oidc_providers and (bp.shared is None or not bp.shared.oidc_providers):
        return {}
    from cfngen.kinds.oidc_provider import shared_providers as of_scope

    return of_scope(bp)


def provider_stack(bp: Blueprint, role: Any) -> str | None:
    """The stack the role's trust waits for: the scope's own `oidc` stack when the role is in
    the shared scope and trusts its provider (across scopes there is no edge: deploy `shared`
    first)."""
    if shared_provider_arn(bp, role) is None:
        return None
    from cfngen.kinds.oidc_provider import OIDC, is_shared_scope

    return OIDC if is_shared_scope(bp) else None


def protected_stacks(bp: Blueprint) -> tuple[str, ...]:
    """Stacks of this scope the pipeline may not change: its OIDC providers' (they decide who
    may assume the deploy roles; an administrator deploys them, like the deploy roles)."""
    if not bp.oidc_providers:
        return ()
    from cfngen.kinds.oidc_provider import OIDC, is_shared_scope

    return (OIDC,) if is_shared_scope(bp) else ()


def creates_provider(bp: Blueprint, role: Any) -> bool:
    return role.oidc_provider_arn is None and shared_provider_arn(bp, role) is None


def check(bp: Blueprint, c: Checker, roles: Mapping[str, Any]) -> None:
    """A shared provider the role would use admits its audience; the account is known; two
    roles of one environment do not both create the provider for one issuer."""
    providers = shared_providers(bp)
    creating: dict[str, str] = {}
    for name, role in roles.items():
        base: Path_ = ("deploy_roles", name)
        iss = issuer(role)
        found = providers.get(iss.host) if role.oidc_provider_arn is None else None
        if found is not None:
            from cfngen.kinds.oidc_provider import same_account

            same = same_account(bp, found)
            if same is None:
                c.error(
                    base,
                    f"the shared scope's OIDC provider for {iss.host} is in account "
                    f"{found.account}, and this environment names no deploy.account, so cfngen "
                    "cannot tell whether the role may use it",
                    "set deploy.account (the role uses the shared provider in that account and "
                    "creates its own elsewhere), or set oidc_provider_arn",
                    at_key=True,
                )
            elif same and iss.audience not in found.provider.client_ids:
                c.error(
                    base,
                    f"the role pins the audience {iss.audience}, which the shared OIDC provider "
                    f"'{found.name}' does not accept ({', '.join(found.provider.client_ids)})",
                    f"add it to shared.oidc_providers.{found.name}.audiences",
                    at_key=True,
                )
        if creates_provider(bp, role):
            if iss.host in creating:
                c.error(
                    base,
                    f"deploy roles {creating[iss.host]} and {name} both create the OIDC "
                    f"provider for {iss.host}; an account has one provider per URL",
                    _fix(bp, None, name, iss.host),
                    at_key=True,
                )
            creating.setdefault(iss.host, name)


def _fix(bp: Blueprint, env: str | None, role: str, host: str) -> str:
    """Declare the provider once in the shared scope when the scope is (or may be put) in this
    account, else name the existing one on this environment's role."""
    account = bp.deploy.account
    arn = f"arn:aws:iam::{account or '<account>'}:oidc-provider/{host}"
    if env is None:
        use = f"set `oidc_provider_arn: {arn}` on deploy role {role}"
    elif env == SHARED:
        use = f"set `shared.deploy_roles.{role}.oidc_provider_arn: {arn}`"
    else:
        use = f"set `environments.{env}.deploy_roles.{role}.oidc_provider_arn: {arn}`"
    scope = bp.shared.deploy.account if bp.shared is not None else None
    if bp.shared is not None and scope is not None and scope != account:
        return use  # the shared scope lives in another account
    provider = "github" if host == GITHUB_HOST else f"gitlab, url: https://{host}"
    where = f'deploy: {{account: "{account}"}}, ' if account and scope is None else ""
    return (
        f"declare it once: `shared: {{{where}oidc_providers: {{ci: {{provider: {provider}}}}}}}` "
        f"(the roles in that account then use it), or {use}"
    )


def check_across(
    env: str,
    bp: Blueprint,
    others: Callable[[], Mapping[str, Blueprint]],
    c: Checker,
    roles_of: Callable[[Blueprint], Mapping[str, Any]],
) -> None:
    """Environments earlier in the blueprint (the shared scope first) that are in this one's
    account and create the provider for an issuer this environment's roles create too: this
    one's deploy would fail."""
    account = bp.deploy.account
    if account is None:
        return  # cfngen cannot tell which account the environment deploys to
    mine = {issuer(r).host: n for n, r in roles_of(bp).items() if creates_provider(bp, r)}
    if not mine:
        return
    for other, obp in others().items():
        if other == env:
            break  # only environments before this one: the first of an account owns it
        if obp.deploy.account != account:
            continue
        for oname, orole in roles_of(obp).items():
            host = issuer(orole).host
            if host in mine and creates_provider(obp, orole):
                name = mine.pop(host)
                c.error(
                    ("deploy_roles", name),
                    f"{_scope(other)} and {_scope(env)} are both in account {account} and "
                    f"each creates the OIDC provider for {host} (deploy roles {oname} and "
                    f"{name}); an account has one provider per URL, so {env}'s deploy would "
                    "fail",
                    _fix(bp, env, name, host),
                    at_key=True,
                )


def _scope(env: str) -> str:
    return "the shared scope" if env == SHARED else f"environment {env}"
