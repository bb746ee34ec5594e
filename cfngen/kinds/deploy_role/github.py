"""GitHub Actions deploy roles (`provider: github`): an OIDC provider (or an existing one) and
a role GitHub assumes with web identity, scoped to this blueprint's own repositories and services.

Each provider contributes its trust through `TRUSTS` (keyed by model class, not by string).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnLikeIfExists,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from msgspec import Struct
from troposphere import GetAtt, Sub, iam

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.deploy_roles import GithubDeployRole
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.kinds.base import Facts
from cfngen.kinds.cluster import CLUSTER, CLUSTER_NAME
from cfngen.kinds.deploy_role import stacks, trust
from cfngen.kinds.deploy_role.trust import protected_stacks
from cfngen.stacks import Output

ROLE_ARN = "RoleArn"


class Trust(Struct, frozen=True):
    """What a provider kind needs: its issuer URL, audience, and the `sub` to pin."""

    url: str  # without https://
    audience: str
    subject: str


def github_trust(role: GithubDeployRole) -> Trust:
    return Trust("token.actions.githubusercontent.com", "sts.amazonaws.com", role.subject())


TRUSTS: dict[type, Callable[[Any], Trust]] = {GithubDeployRole: github_trust}


class DeployRoleSpec(Struct, frozen=True):
    name: str
    role: Any  # one of the DeployRole models
    services: tuple[str, ...]
    repositories: tuple[str, ...]
    shared_provider: str | None = None  # the shared scope's provider ARN (`Fn::Sub` text)


def plan(
    bp: Blueprint, facts: Facts, key: Callable[[str], str], roles: dict[str, Any]
) -> list[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = []
    for name, role in roles.items():
        if not isinstance(role, GithubDeployRole):
            continue
        services = tuple(role.services if role.services is not None else bp.services)
        repos = tuple(role.repositories if role.repositories is not None else bp.repositories)
        base: Path_ = ("deploy_roles", name)
        deps: dict[str, Path_] = {}
        if (oidc := trust.provider_stack(bp, role)) is not None:
            deps[oidc] = base
        for repo in repos:  # the `ecr` shards that hold them
            where = (*base, "repositories") if role.repositories is not None else base
            deps.setdefault(_repository_arn(facts, repo).component, where)
        if services:
            deps[CLUSTER] = base
        for i, svc in enumerate(services):
            deps[_service_stack(svc)] = (
                (*base, "services", i) if role.services is not None else base
            )
        plans.append(
            StackPlan(
                component=key(name),
                title=f"{role.provider} deploy role {name}",
                build=build,
                spec=DeployRoleSpec(
                    name, role, services, repos, trust.shared_provider_arn(bp, role)
                ),
                depends_on=tuple(deps),
                source=base,
                dependency_sources=deps,
            )
        )
    return plans


def _st(actions: list[str], resources: list[Any], sid: str, **extra: Any) -> Statement:
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=resources,
        **extra,
    )


def _record(spec: DeployRoleSpec, ctx: Context) -> None:
    """The pipeline's targets, for `cfngen verify` (manifest.json `accesses`): CFG029 derives
    the steps (push, register, update, pass the roles) from these and proves the role allows
    each."""
    base: Path_ = ("deploy_roles", spec.name)
    listed = spec.role.repositories is not None
    for i, repo in enumerate(spec.repositories):
        where = (*base, "repositories", i) if listed else base
        ctx.access("DeployRole", "deploy:repository", _repository_arn(ctx.facts, repo), where)
    listed = spec.role.services is not None
    for i, svc in enumerate(spec.services):
        where = (*base, "services", i) if listed else base
        ctx.access("DeployRole", "deploy:service", f"stack:{_service_stack(svc)}", where)


def _repository_arn(facts: Facts, repo: str) -> Output:
    """The output holding a repository's ARN, in the `ecr` shard that holds it."""
    from cfngen.kinds.repository import repository_output, repository_stack  # a role names one

    return Output(repository_stack(facts, repo), repository_output(repo, "Arn"))


def _service_stack(svc: str) -> str:
    from cfngen.kinds.service import service_key  # a role deploys one: the kind is used

    return service_key(svc)


def build(spec: DeployRoleSpec, ctx: Context) -> None:
    trust = TRUSTS[type(spec.role)](spec.role)
    if spec.role.oidc_provider_arn:
        provider_arn: Any = spec.role.oidc_provider_arn
    elif spec.shared_provider is not None:
        provider_arn = Sub(spec.shared_provider)
    else:
        provider = ctx.add(
            iam.OIDCProvider(
                "OidcProvider",
                Url=f"https://{trust.url}",
                ClientIdList=[trust.audience],
                Tags=ctx.name_tag(f"oidc-{spec.name}"),
            )
        )
        provider_arn = GetAtt(provider, "Arn")
    statements: list[Statement] = []
    if spec.repositories:
        arns = [
            ctx.import_value(arn.component, arn.name)
            for arn in (_repository_arn(ctx.facts, r) for r in spec.repositories)
        ]
        statements.append(
            _st(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:CompleteLayerUpload",
                    "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:InitiateLayerUpload",
                    "ecr:PutImage",
                    "ecr:UploadLayerPart",
                ],
                arns,
                "PushToOwnRepositories",
            )
        )
    unscoped = ["ecr:GetAuthorizationToken"] if spec.repositories else []
    if spec.services:
        cluster = ctx.import_value(CLUSTER, CLUSTER_NAME)
        service_arns = [
            Sub(
                "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/"
                f"${{Cluster}}/{svc}",
                Cluster=cluster,
            )
            for svc in spec.services
        ]
        statements.append(_st(["ecs:DescribeServices"], service_arns, "DescribeOwnServices"))
        # UpdateService may only switch a service to a revision of the blueprint's own families.
        families = [
            Sub(
                "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/"
                f"${{EnvironmentName}}-{svc}:*"
            )
            for svc in spec.services
        ]
        statements.append(
            _st(
                ["ecs:UpdateService"],
                service_arns,
                "DeployOwnServices",
                Condition=Condition(ArnLikeIfExists({"ecs:task-definition": families})),
            )
        )
        unscoped += ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
        from cfngen.kinds.service import EXECUTION_ROLE_ARN, TASK_ROLE_ARN

        roles = []
        for svc in spec.services:
            roles.append(ctx.import_value(_service_stack(svc), EXECUTION_ROLE_ARN))
            roles.append(ctx.import_value(_service_stack(svc), TASK_ROLE_ARN))
        statements.append(
            _st(
                ["iam:PassRole"],
                roles,
                "PassOwnTaskRoles",
                Condition=Condition(
                    StringEquals({"iam:PassedToService": "ecs-tasks.amazonaws.com"})
                ),
            )
        )
    if spec.role.deploy_stacks:
        service_role = stacks.add_service_role(ctx, spec.name, "DeployRole")
        statements += stacks.deploy_statements(
            spec.name,
            service_role,
            protected_stacks(ctx.blueprint),
            stacks.stack_sets_of(ctx.blueprint),
        )
        unscoped += stacks.UNSCOPED_READS
    if unscoped:
        statements.append(_st(sorted(unscoped), ["*"], "ActionsWithoutResourceScope"))
    role = iam.Role(
        "DeployRole",
        **_role_name(spec),
        MaxSessionDuration=spec.role.max_session_hours * 3600,
        AssumeRolePolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Federated", provider_arn),
                    Action=[Action("sts", "AssumeRoleWithWebIdentity")],
                    Condition=Condition(
                        StringEquals(
                            {f"{trust.url}:aud": trust.audience, f"{trust.url}:sub": trust.subject}
                        )
                    ),
                )
            ],
        ),
        Policies=[
            iam.Policy(
                PolicyName="deploy",
                PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
            )
        ],
        Tags=ctx.name_tag(f"deploy-{spec.name}"),
    )
    if "ecs:RegisterTaskDefinition" in unscoped or spec.role.deploy_stacks:
        waive(
            role,
            {
                "CKV_AWS_111": "ecs:RegisterTaskDefinition, ecr:GetAuthorizationToken and "
                "cloudformation:ListImports do not support resource-level permissions; "
                "everything else is scoped to this blueprint's repositories, services, stacks "
                "and roles"
            },
        )
    role = ctx.add(role)
    _record(spec, ctx)
    ctx.export(ROLE_ARN, GetAtt(role, "Arn"), f"Role the {spec.role.provider} deploy job assumes")


def _role_name(spec: DeployRoleSpec) -> dict[str, Any]:
    """A fixed name when the role deploys stacks, so the pipeline can name it in advance."""
    if not spec.role.deploy_stacks:
        return {}
    return {"RoleName": Sub(stacks.role_names(spec.name)[0])}


def check(bp: Blueprint, c: Checker, roles: dict[str, Any]) -> None:
    for name, role in roles.items():
        if not isinstance(role, GithubDeployRole):
            continue
        base: Path_ = ("deploy_roles", name)
        for i, svc in enumerate(role.services or []):
            c.reference((*base, "services", i), svc, bp.services, "service")
        for i, repo in enumerate(role.repositories or []):
            c.reference((*base, "repositories", i), repo, bp.repositories, "repository")
        if role.branch is not None and role.environment is not None:
            c.error(
                (*base, "environment"),
                "give `branch` or `environment`, not both (the trust pins exactly one subject)",
                "remove one",
            )
