"""GitLab CI deploy roles (`provider: gitlab`, OIDC): one stack `deploy-role-<name>` each.

Kept apart from the GitHub deploy roles (github.py beside this module) because its permissions
are the connexing shape (ECR push, SSM Run Command on hosts, site publishing, deploy logs)
rather than ECS deploys; see docs/data-edge-ops.md.

The trust pins `<issuer>:aud` and `<issuer>:sub` with StringEquals: one project, one branch.
Every permission names the blueprint's own resources; the few actions AWS does not scope by
resource (ecr:GetAuthorizationToken, ssm:GetCommandInvocation, ssm:DescribeInstanceInformation,
ec2:DescribeInstances) are the only `*` and are read-only or token-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from awacs import cloudfront as awacs_cf
from awacs import ec2 as awacs_ec2
from awacs import ecr as awacs_ecr
from awacs import logs as awacs_logs
from awacs import s3 as awacs_s3
from awacs import ssm as awacs_ssm
from awacs.aws import (
    Action,
    Allow,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.sts import AssumeRoleWithWebIdentity
from msgspec import Struct
from troposphere import GetAtt, Ref, Sub, iam

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.deploy_roles import GitlabDeployRole
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group
from cfngen.kinds.base import Facts
from cfngen.kinds.deploy_role import stacks, trust
from cfngen.kinds.deploy_role.trust import protected_stacks
from cfngen.stacks import Output, resolved_export_name

ROLE_ARN = "RoleArn"


class GitlabSpec(Struct, frozen=True):
    name: str
    role: GitlabDeployRole
    repositories: tuple[Output, ...]  # ARN outputs of the repositories it pushes to
    shared_provider: str | None = None  # the shared scope's provider ARN (`Fn::Sub` text)


def plan(
    bp: Blueprint, facts: Facts, key: Callable[[str], str], roles: dict[str, Any]
) -> list[StackPlan[Any]]:
    plans = []
    attrs = facts.attributes
    for name, role in roles.items():
        if not isinstance(role, GitlabDeployRole):
            continue
        sources: dict[str, tuple[str | int, ...]] = {}
        perms = role.permissions
        if (oidc := trust.provider_stack(bp, role)) is not None:
            sources[oidc] = ("deploy_roles", name)
        for i, r in enumerate(perms.repositories):
            if "arn" in attrs.get(r, {}):
                sources.setdefault(
                    attrs[r]["arn"].output.component,
                    ("deploy_roles", name, "permissions", "repositories", i),
                )
        for i, h in enumerate(perms.run_command_on):
            sources.setdefault(
                _instance_id(h).component,
                ("deploy_roles", name, "permissions", "run_command_on", i),
            )
        for i, s in enumerate(perms.publish_sites):
            sources.setdefault(
                _site_outputs(s)[0].component,
                ("deploy_roles", name, "permissions", "publish_sites", i),
            )
        plans.append(
            StackPlan(
                component=key(name),
                title=f"GitLab CI deploy role {name} ({role.project}@{role.branch})",
                build=build,
                spec=GitlabSpec(
                    name,
                    role,
                    tuple(attrs[r]["arn"].output for r in perms.repositories if r in attrs),
                    trust.shared_provider_arn(bp, role),
                ),
                depends_on=tuple(sources),
                source=("deploy_roles", name),
                dependency_sources=sources,
            )
        )
    return plans


def _statements(spec: GitlabSpec, logs_arn: Any, ctx: Context) -> list[Statement]:
    perms = spec.role.permissions
    out: list[Statement] = []
    if spec.repositories:
        out.append(
            Statement(
                Sid="EcrLogin",
                Effect=Allow,
                Action=[awacs_ecr.GetAuthorizationToken],
                Resource=["*"],  # the action has no resource
            )
        )
        out.append(
            Statement(
                Sid="EcrPush",
                Effect=Allow,
                Action=[
                    awacs_ecr.BatchCheckLayerAvailability,
                    awacs_ecr.InitiateLayerUpload,
                    awacs_ecr.UploadLayerPart,
                    awacs_ecr.CompleteLayerUpload,
                    awacs_ecr.PutImage,
                    awacs_ecr.BatchGetImage,
                ],
                Resource=[ctx.import_value(o.component, o.name) for o in spec.repositories],
            )
        )
    if perms.run_command_on:
        instances = [
            Sub(
                "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/${Id}",
                Id=ctx.import_value(instance.component, instance.name),
            )
            for instance in map(_instance_id, perms.run_command_on)
        ]
        out.append(
            Statement(
                Sid="RunCommandOnHosts",
                Effect=Allow,
                Action=[awacs_ssm.SendCommand],
                Resource=[
                    *instances,
                    Sub("arn:${AWS::Partition}:ssm:${AWS::Region}::document/AWS-RunShellScript"),
                ],
            )
        )
        out.append(
            Statement(
                Sid="FollowCommands",
                Effect=Allow,
                Action=[
                    awacs_ssm.GetCommandInvocation,
                    awacs_ssm.DescribeInstanceInformation,
                    awacs_ec2.DescribeInstances,
                ],
                Resource=["*"],  # read-only actions without resource-level permissions
            )
        )
    if perms.publish_sites:
        sites = [_site_outputs(s) for s in perms.publish_sites]
        buckets = [ctx.import_value(bucket.component, bucket.name) for bucket, _ in sites]
        out.append(
            Statement(
                Sid="ListSiteBuckets", Effect=Allow, Action=[awacs_s3.ListBucket], Resource=buckets
            )
        )
        out.append(
            Statement(
                Sid="PublishSiteObjects",
                Effect=Allow,
                Action=[awacs_s3.PutObject, awacs_s3.DeleteObject],
                Resource=[Sub("${Bucket}/*", Bucket=b) for b in buckets],
            )
        )
        out.append(
            Statement(
                Sid="InvalidateSites",
                Effect=Allow,
                Action=[awacs_cf.CreateInvalidation],
                Resource=[
                    Sub(
                        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Id}",
                        Id=ctx.import_value(distribution.component, distribution.name),
                    )
                    for _, distribution in sites
                ],
            )
        )
    if logs_arn is not None:
        out.append(
            Statement(
                Sid="DeployLogs",
                Effect=Allow,
                Action=[awacs_logs.CreateLogStream, awacs_logs.PutLogEvents],
                Resource=[logs_arn],  # the group's Arn ends in :*, covering its streams
            )
        )
    return out


def _record(spec: GitlabSpec, ctx: Context) -> None:
    """The pipeline's targets, for `cfngen verify` (manifest.json `accesses`): CFG029 derives
    the steps (push, run the deploy script, publish the site) and proves the role allows each."""
    base: Path_ = ("deploy_roles", spec.name, "permissions")
    perms = spec.role.permissions
    for i, arn in enumerate(spec.repositories):
        ctx.access("Role", "deploy:repository", arn, (*base, "repositories", i))
    for i, h in enumerate(perms.run_command_on):
        ctx.access("Role", "deploy:host", _instance_id(h), (*base, "run_command_on", i))
    for i, s in enumerate(perms.publish_sites):
        bucket, distribution = _site_outputs(s)
        ctx.access(
            "Role",
            "deploy:site",
            bucket,
            (*base, "publish_sites", i),
            distribution="export:" + resolved_export_name(ctx.env_name, distribution),
        )


def _instance_id(host: str) -> Output:
    """The output holding a host's instance ID."""
    from cfngen.kinds import host as host_kind  # a role runs commands on one: the kind is used

    return Output(host_kind.component(host), host_kind.INSTANCE_ID)


def _site_outputs(site: str) -> tuple[Output, Output]:
    """The outputs holding a site's content bucket ARN and its distribution ID."""
    from cfngen.kinds import site as site_kind  # a role publishes one: the kind is used

    component = site_kind.component(site)
    return Output(component, site_kind.BUCKET_ARN), Output(component, site_kind.DISTRIBUTION_ID)


def build(spec: GitlabSpec, ctx: Context) -> None:
    role = spec.role
    if role.oidc_provider_arn is not None:
        oidc_provider_arn: Any = role.oidc_provider_arn
    elif spec.shared_provider is not None:
        oidc_provider_arn = Sub(spec.shared_provider)
    else:
        provider = ctx.add(
            iam.OIDCProvider(
                "OidcProvider",
                Url=role.url,
                ClientIdList=[role.aud],
                Tags=ctx.name_tag("gitlab-oidc"),
            )
        )
        oidc_provider_arn = Ref(provider)
    logs_arn = None
    if role.permissions.deploy_logs:
        logs = ctx.add(
            log_group(
                "DeployLogGroup",
                role.log_retention_days,
                LogGroupName=Sub(f"/cfngen/${{EnvironmentName}}/deploy/{spec.name}"),
            )
        )
        logs_arn = GetAtt(logs, "Arn")
        ctx.output("DeployLogGroupName", Ref(logs), "Log group the pipeline writes deploy logs to")
    statements = _statements(spec, logs_arn, ctx)
    if role.deploy_stacks:
        service_role = stacks.add_service_role(ctx, spec.name, "Role")
        statements += stacks.deploy_statements(
            spec.name,
            service_role,
            protected_stacks(ctx.blueprint),
            stacks.stack_sets_of(ctx.blueprint),
        )
        statements.append(
            Statement(
                Sid="ReadsWithoutResourceScope",
                Effect=Allow,
                Action=[Action(*a.split(":", 1)) for a in stacks.UNSCOPED_READS],
                Resource=["*"],
            )
        )
    props: dict[str, Any] = {
        "AssumeRolePolicyDocument": PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Federated", oidc_provider_arn),
                    Action=[AssumeRoleWithWebIdentity],
                    Condition=Condition(
                        StringEquals({f"{role.host}:aud": role.aud, f"{role.host}:sub": role.sub})
                    ),
                )
            ],
        ),
        "MaxSessionDuration": 3600,
        **({"RoleName": Sub(stacks.role_names(spec.name)[0])} if role.deploy_stacks else {}),
        "Description": f"GitLab CI {role.project} ({role.ref_type} {role.branch}) deploys",
    }
    if statements:
        props["Policies"] = [
            iam.Policy(
                PolicyName="deploy",
                PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
            )
        ]
    res = ctx.add(iam.Role("Role", **props))
    _record(spec, ctx)
    ctx.export(ROLE_ARN, GetAtt(res, "Arn"), f"Role GitLab CI assumes (aud {role.aud})")


def check(bp: Blueprint, c: Checker, roles: dict[str, Any]) -> None:
    for name, role in roles.items():
        if not isinstance(role, GitlabDeployRole):
            continue
        base: Path_ = ("deploy_roles", name, "permissions")
        perms = role.permissions
        for i, repo in enumerate(perms.repositories):
            c.reference((*base, "repositories", i), repo, bp.repositories, "repository")
        for i, h in enumerate(perms.run_command_on):
            c.reference((*base, "run_command_on", i), h, bp.hosts, "host")
        for i, s in enumerate(perms.publish_sites):
            c.reference((*base, "publish_sites", i), s, bp.sites, "site")
