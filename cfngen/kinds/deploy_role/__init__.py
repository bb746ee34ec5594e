"""The deploy role kind: roles a CI system assumes through OIDC, one stack `deploy-role-<name>`
each. The provider decides the trust and the permissions: GitHub Actions roles deploy the
blueprint's ECS services and push its images (github.py); GitLab CI roles push images, run
commands on hosts and publish sites (gitlab.py). Both may run `cfngen deploy` on their
environment through a CloudFormation service role (stacks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.deploy_roles import DeployRole
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import StackPlan
from cfngen.kinds.base import Facts, Kind, PhysicalName
from cfngen.kinds.deploy_role import github, gitlab, trust


def deploy_role_key(name: str) -> str:
    return DEPLOY_ROLES.key(name)


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    roles = DEPLOY_ROLES.entries(bp)
    return [
        *github.plan(bp, facts, deploy_role_key, roles),
        *gitlab.plan(bp, facts, deploy_role_key, roles),
    ]


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    roles = DEPLOY_ROLES.entries(bp)
    github.check(bp, c, roles)
    gitlab.check(bp, c, roles)
    trust.check(bp, c, roles)


def across(
    env: str, bp: Blueprint, others: Callable[[], Mapping[str, Blueprint]], c: Checker
) -> None:
    trust.check_across(env, bp, others, c, DEPLOY_ROLES.entries)


DEPLOY_ROLES: Kind[Any] = Kind(
    section="deploy_roles",
    model=DeployRole,
    description="CI deploy roles assumed through OIDC.",
    prefix="deploy-role",
    plan=plan,
    checks=(check,),
    across=across,
    shareable=True,
    # the deploy role's and service role's fixed names (deploy_stacks), the longer first
    physical_names=(PhysicalName("IAM role name", 64, suffix="-deploy"),),
    order=65,
)
KIND = DEPLOY_ROLES
