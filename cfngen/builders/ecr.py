"""The `ecr` stack: every ECR repository of the blueprint (scan on push, lifecycle, retained)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Sub, ecr

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.repositories import Repository
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.builders.containers import ECR, repository_output
from cfngen.builders.relations import Attribute
from cfngen.stacks import Output, logical_id


@dataclass(frozen=True)
class EcrSpec:
    repositories: dict[str, Repository]


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    if not bp.repositories:
        return []
    return [
        StackPlan(
            component=ECR,
            title="ECR repositories",
            build=build,
            spec=EcrSpec(dict(bp.repositories)),
            source=("repositories",),
        )
    ]


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    return {
        name: {
            "uri": Attribute(Output(ECR, repository_output(name, "Uri")), "value", "Image URI"),
            "arn": Attribute(Output(ECR, repository_output(name, "Arn")), "value", "Repo ARN"),
        }
        for name in bp.repositories
    }


def repository_name(suffix: str) -> Sub:
    """Repository names are per environment: `${EnvironmentName}-<name>` (lowercase, checked)."""
    return Sub(f"${{EnvironmentName}}-{suffix}")


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
