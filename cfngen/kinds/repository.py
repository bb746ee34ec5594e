"""The repository kind: every ECR repository of the blueprint in the stack `ecr` (scan on push,
lifecycle, retained), split into `ecr-2`, `ecr-3` ... past `SHARD_SIZE` repositories. Others take
a repository's `uri`, `arn` and `name` attributes (which name its shard)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from msgspec import Struct
from troposphere import GetAtt, Ref, Sub, ecr

from cfngen.blueprint.environments import SHARED
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.repositories import Repository
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.kinds.base import Attribute, Facts, Kind
from cfngen.stacks import Output, environment_name, logical_id

ECR = "ecr"
_ECR_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")


def repository_output(repo: str, what: str) -> str:
    """what: Uri | Arn | Name."""
    return logical_id(repo, "repository", what)


class EcrSpec(Struct, frozen=True):
    repositories: dict[str, Repository]


SHARD_SIZE = 40
"""Repositories per `ecr` stack: 40 resources and 120 of the 200 outputs a stack may have."""


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    shards: dict[str, dict[str, Repository]] = {}
    for name, repo in REPOSITORIES.entries(bp).items():
        shards.setdefault(facts.shard(ECR, name), {})[name] = repo
    return [
        StackPlan(
            component=component,
            title="ECR repositories",
            build=build,
            spec=EcrSpec(repositories),
            source=("repositories",),
        )
        for component, repositories in shards.items()
    ]


def repository_stack(facts: Facts, name: str) -> str:
    """The `ecr` stack (shard) that holds repository `name`."""
    return facts.shard(ECR, name)


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name, stack in REPOSITORIES.placement(bp).items():
        out[name] = {
            "uri": Attribute(Output(stack, repository_output(name, "Uri")), "value", "Image URI"),
            "arn": Attribute(Output(stack, repository_output(name, "Arn")), "value", "Repo ARN"),
            "name": Attribute(Output(stack, repository_output(name, "Name")), "value", "Repo name"),
        }
    return out


def repository_name(suffix: str) -> Sub:
    """Repository names are per environment: `${EnvironmentName}-<name>` (lowercase, checked)."""
    return Sub(f"${{EnvironmentName}}-{suffix}")


PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
"""What pulling an image takes on the repository (GetAuthorizationToken is the puller's own)."""


def pull_policy(accounts: Sequence[str]) -> dict[str, Any]:
    """A repository policy letting the roles of these accounts pull (each account's own IAM
    policies still decide which of its roles may: the execution roles cfngen renders)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullFromEnvironmentAccounts",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [Sub(f"arn:${{AWS::Partition}}:iam::{a}:root") for a in accounts]
                },
                # DescribeImages: the environments' deploys check that an image exists first
                "Action": [*PULL_ACTIONS, "ecr:DescribeImages"],
            }
        ],
    }


def share(entry: dict[str, Any], accounts: list[str]) -> dict[str, Any]:
    """A repository of the shared scope lets every environment's account pull."""
    given = entry.get("pull_accounts", [])
    if not isinstance(given, list):
        return entry  # validation says what is wrong with what the blueprint wrote
    listed = [str(a) for a in given]
    return {**entry, "pull_accounts": listed + [a for a in accounts if a not in listed]}


def shared_repositories(bp: Blueprint) -> dict[str, Repository]:
    """Repositories of the blueprint's `shared` scope, as an environment sees them (the shared
    scope's own document has no `shared` key: its repositories are its own)."""
    scope = bp.shared
    return {} if scope is None else dict(scope.repositories)


def shared_repository_location(bp: Blueprint, name: str) -> tuple[str, str]:
    """The image URI (without tag) and the ARN of a shared repository, as `Fn::Sub` text: its
    name is `<blueprint>-shared-<name>`, in the scope's account (this one's when it names
    none) and region."""
    scope = bp.shared
    assert scope is not None, "only for repositories of the shared scope"
    account = scope.deploy.account or "${AWS::AccountId}"
    region = scope.region or bp.region
    physical = f"{environment_name(bp.blueprint, SHARED, None)}-{name}"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    uri = f"{account}.dkr.ecr.{region}.{suffix}/{physical}"
    arn = f"arn:${{AWS::Partition}}:ecr:{region}:{account}:repository/{physical}"
    return uri, arn


def lifecycle(keep: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Keep the last {keep} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )


def build(spec: EcrSpec, ctx: Context) -> None:
    for name, repo in spec.repositories.items():
        props: dict[str, Any] = {
            "RepositoryName": repository_name(name),
            "ImageScanningConfiguration": ecr.ImageScanningConfiguration(
                ScanOnPush=repo.scan_on_push
            ),
            "ImageTagMutability": "IMMUTABLE" if repo.immutable_tags else "MUTABLE",
            "LifecyclePolicy": ecr.LifecyclePolicy(LifecyclePolicyText=lifecycle(repo.keep_last)),
            "Tags": ctx.name_tag(name),
        }
        accounts = [a for a in repo.pull_accounts if a != ctx.blueprint.deploy.account]
        if accounts:
            props["RepositoryPolicyText"] = pull_policy(accounts)
        waivers: dict[str, str] = {}
        if repo.kms_key_arn:
            props["EncryptionConfiguration"] = ecr.EncryptionConfiguration(
                EncryptionType="KMS", KmsKey=repo.kms_key_arn
            )
        else:
            waivers["CKV_AWS_136"] = (
                "ECR encrypts images at rest with AES-256 by default; set kms_key_arn on the "
                "repository for a customer-managed key"
            )
        if not repo.immutable_tags:
            waivers["CKV_AWS_51"] = (
                "tags are mutable so a moving tag (e.g. latest) can be redeployed; set "
                f"repositories.{name}.immutable_tags when deploying by unique tags"
            )
        if not repo.scan_on_push:
            waivers["CKV_AWS_163"] = f"scan on push turned off in repositories.{name}"
        res = ecr.Repository(
            logical_id(name, "repository"),
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            **props,
        )
        res = ctx.add(waive(res, waivers), ("repositories", name))
        ctx.export(repository_output(name, "Uri"), GetAtt(res, "RepositoryUri"), f"{name} URI")
        ctx.export(repository_output(name, "Arn"), GetAtt(res, "Arn"), f"{name} ARN")
        ctx.export(repository_output(name, "Name"), Ref(res), f"{name} name")


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    for name in shared_repositories(bp):
        if name in REPOSITORIES.entries(bp):
            c.error(
                ("repositories", name),
                f"repository '{name}' is also declared in the shared scope",
                f"use the shared one (remove repositories.{name}) or rename one of them",
            )
    if not REPOSITORIES.entries(bp):
        return
    env_name = environment_name(bp.blueprint, "env", bp.environment_name)
    if bp.environment_name is not None and not _ECR_NAME.match(env_name):
        c.error(
            ("environment_name",),
            f"ECR repository names are lowercase; '{env_name}' names them",
            "use a lowercase environment_name",
        )


REPOSITORIES: Kind[Repository] = Kind(
    section="repositories",
    model=Repository,
    description="ECR repositories (stack `ecr`).",
    prefix=ECR,
    plan=plan,
    shared_stack=True,
    shard_size=SHARD_SIZE,
    shareable=True,
    share=share,
    attributes=attributes,
    checks=(check,),
    order=50,
)
KIND = REPOSITORIES
