"""The bucket kind: S3 data buckets, one long-lived stack `bucket-<name>` each (private,
encrypted, TLS only, retained), with lifecycle rules and versioning when asked.

Services, tasks and hosts reach a bucket through `uses` (`access: read` or `read-write`,
optionally under a `prefix`); the grant gives their role exactly those object and list rights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs.aws import Policy
from msgspec import Struct
from troposphere import GetAtt, Ref, Sub, Tags, cloudformation, s3

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.storage import Bucket
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import existing_value, waive
from cfngen.builders.hardened import bucket_properties, deny_insecure_transport
from cfngen.kinds.base import (
    Attribute,
    Facts,
    Grant,
    GrantFn,
    GrantRequest,
    GrantResource,
    GrantStatement,
    Kind,
    MetricSource,
    only_options,
)
from cfngen.stacks import Output

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
BUCKET_NAME = "BucketName"
BUCKET_ARN = "BucketArn"


def bucket_key(name: str) -> str:
    return BUCKETS.key(name)


class BucketSpec(Struct, frozen=True):
    name: str
    bucket: Bucket


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    return [
        StackPlan(
            component=bucket_key(name),
            title=f"S3 data bucket {name}",
            build=build_bucket,
            spec=BucketSpec(name, bucket),
            source=("buckets", name),
        )
        for name, bucket in BUCKETS.entries(bp).items()
    ]


def _grant(write: bool) -> GrantFn:
    """Objects under the prefix (read, or read-write), and listing the keys under it."""

    def grant(bp: Blueprint, request: GrantRequest) -> Grant:
        only_options(request, "bucket", "prefix")
        prefix = str(request.options.get("prefix") or "")
        arn = Output(bucket_key(request.component), BUCKET_ARN)
        actions = ["s3:GetObject"]
        if write:
            actions += ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"]
        listing = ("StringLike", "s3:prefix", (f"{prefix}*",)) if prefix else None
        statements = [
            GrantStatement(tuple(actions), (GrantResource(arn, f"/{prefix}*"),)),
            GrantStatement(("s3:ListBucket",), (GrantResource(arn),), listing),
        ]
        key = BUCKETS.entries(bp)[request.component].kms_key_arn
        if key:  # SSE-KMS: reads decrypt with the caller's rights, writes generate a data key
            kms = ("kms:Decrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",)
            statements.append(GrantStatement(kms, (GrantResource(literal=key),)))
        return Grant(
            statements=tuple(statements),
            address=Output(bucket_key(request.component), BUCKET_NAME),
        )

    return grant


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/S3 daily storage metrics of each bucket (add `StorageType: StandardStorage` for
    BucketSizeBytes, `AllStorageTypes` for NumberOfObjects)."""
    return {
        name: MetricSource(
            "AWS/S3",
            {"BucketName": Output(bucket_key(name), BUCKET_NAME)},
            ("BucketSizeBytes", "NumberOfObjects"),
        )
        for name in BUCKETS.entries(bp)
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    return {
        name: {
            "name": Attribute(Output(bucket_key(name), BUCKET_NAME), "value", "Bucket name"),
            "arn": Attribute(Output(bucket_key(name), BUCKET_ARN), "value", "Bucket ARN"),
        }
        for name in BUCKETS.entries(bp)
    }


def build_bucket(spec: BucketSpec, ctx: Context) -> None:
    b = spec.bucket
    if b.existing is not None:
        # nothing to create: the existing bucket's name and ARN under cfngen's export names
        ctx.add(cloudformation.WaitConditionHandle("ExistingBucket"))
        name = existing_value(ctx, "BucketName", b.existing.name, False)
        ctx.export(BUCKET_NAME, name, f"Bucket {spec.name} (existing)")
        ctx.export(BUCKET_ARN, Sub("arn:${AWS::Partition}:s3:::${Name}", Name=name), "Bucket ARN")
        return
    props = bucket_properties(Tags(Name=ctx.name(f"bucket-{spec.name}")), b.kms_key_arn)
    rules = []
    if b.expire_after_days is not None:
        rule: dict[str, Any] = {
            "Id": "expire-objects",
            "Status": "Enabled",
            "ExpirationInDays": b.expire_after_days,
            "AbortIncompleteMultipartUpload": s3.AbortIncompleteMultipartUpload(
                DaysAfterInitiation=7
            ),
        }
        if b.expire_prefix:
            rule["Prefix"] = b.expire_prefix
        rules.append(s3.LifecycleRule(**rule))
    if b.versioning:
        props["VersioningConfiguration"] = s3.VersioningConfiguration(Status="Enabled")
        rules.append(
            s3.LifecycleRule(
                Id="expire-old-versions",
                Status="Enabled",
                NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                    NoncurrentDays=b.noncurrent_expire_days
                ),
            )
        )
    if rules:
        props["LifecycleConfiguration"] = s3.LifecycleConfiguration(Rules=rules)
    waivers: dict[str, str] = {}
    if b.access_logs_bucket:
        props["LoggingConfiguration"] = s3.LoggingConfiguration(
            DestinationBucketName=b.access_logs_bucket,
            LogFilePrefix=Sub(f"${{EnvironmentName}}/{spec.name}/"),
        )
    else:
        waivers["CKV_AWS_18"] = (
            f"server access logs are not requested (buckets.{spec.name}.access_logs_bucket "
            "names a log bucket); CloudTrail data events can audit object access instead"
        )
    bucket = s3.Bucket("Bucket", **RETAIN, **props)
    if not b.versioning:
        waivers["CKV_AWS_21"] = (
            f"objects are disposable results expired by lifecycle; set buckets.{spec.name}."
            "versioning to keep versions"
        )
    bucket = ctx.add(waive(bucket, waivers))
    ctx.add(
        s3.BucketPolicy(
            "BucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[
                    deny_insecure_transport("s3", [GetAtt(bucket, "Arn"), Sub("${Bucket.Arn}/*")])
                ],
            ),
        )
    )
    ctx.export(BUCKET_NAME, Ref(bucket), f"Bucket {spec.name}")
    ctx.export(BUCKET_ARN, GetAtt(bucket, "Arn"), f"Bucket {spec.name} ARN")


BUCKETS: Kind[Bucket] = Kind(
    section="buckets",
    model=Bucket,
    description="S3 data buckets, one long-lived stack each.",
    prefix="bucket",
    plan=plan,
    metrics=metrics,
    attributes=attributes,
    grants={"read": _grant(write=False), "read-write": _grant(write=True)},
    order=52,
)
KIND = BUCKETS
