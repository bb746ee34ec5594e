"""Long-lived storage stacks: EFS file systems (`efs-<name>`) and S3 data buckets
(`bucket-<name>`). Both are retained when their stack is deleted or the resource replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awacs.aws import Action as AwsAction
from awacs.aws import (
    Allow,
    AWSPrincipal,
    Bool,
    Condition,
    Deny,
    Policy,
    Principal,
    Statement,
)
from troposphere import GetAtt, Ref, Select, Split, Sub, Tags, efs, s3

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.models.storage import Bucket, FileSystem
from cfngen.builders import network, security
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.builders.containers import (
    BUCKET_ARN,
    BUCKET_NAME,
    FS_ARN,
    FS_ID,
    access_point_output,
    bucket_key,
    efs_key,
)
from cfngen.builders.relations import Attribute, Target
from cfngen.builders.security import Derived
from cfngen.stacks import Output, logical_id

RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


@dataclass(frozen=True)
class FsSpec:
    name: str
    fs: FileSystem
    availability_zones: int


@dataclass(frozen=True)
class BucketSpec:
    name: str
    bucket: Bucket


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = [
        StackPlan(
            component=efs_key(name),
            title=f"EFS file system {name}",
            build=build_file_system,
            spec=FsSpec(name, fs, bp.network.availability_zones),
            depends_on=(network.COMPONENT, security.COMPONENT),
            source=("file_systems", name),
        )
        for name, fs in bp.file_systems.items()
    ]
    plans += [
        StackPlan(
            component=bucket_key(name),
            title=f"S3 data bucket {name}",
            build=build_bucket,
            spec=BucketSpec(name, bucket),
            source=("buckets", name),
        )
        for name, bucket in bp.buckets.items()
    ]
    return plans


def groups(bp: Blueprint) -> Derived:
    out = Derived()
    for name in bp.file_systems:
        key = efs_key(name)
        out.groups[key] = SecurityGroup(
            description=f"EFS file system {name} mount targets", egress=[]
        )
        out.sources[key] = ("file_systems", name)
    return out


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(name, "file system", efs_key(name), (2049,), ("file_systems", name))
        for name in bp.file_systems
    ]


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name in bp.file_systems:
        out[name] = {
            "id": Attribute(Output(efs_key(name), FS_ID), "value", "File system ID"),
            "arn": Attribute(Output(efs_key(name), FS_ARN), "value", "File system ARN"),
        }
    for name in bp.buckets:
        out[name] = {
            "name": Attribute(Output(bucket_key(name), BUCKET_NAME), "value", "Bucket name"),
            "arn": Attribute(Output(bucket_key(name), BUCKET_ARN), "value", "Bucket ARN"),
        }
    return out


def _as_dict(policy: Policy) -> dict[str, Any]:
    """troposphere types some policy properties as plain dicts; intrinsics inside still encode."""
    data: dict[str, Any] = policy.JSONrepr()
    return data


def build_file_system(spec: FsSpec, ctx: Context) -> None:
    fs = spec.fs
    props: dict[str, Any] = {
        "Encrypted": True,
        "PerformanceMode": fs.performance_mode,
        "ThroughputMode": fs.throughput_mode,
        "BackupPolicy": efs.BackupPolicy(Status="ENABLED" if fs.backups else "DISABLED"),
        "FileSystemTags": Tags(Name=ctx.name(f"efs-{spec.name}")),
        # Clients must mount over TLS, and only principals whose own IAM policy allows it
        # (the task roles cfngen grants) may mount: the account is trusted, not everyone.
        "FileSystemPolicy": _as_dict(
            Policy(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="MountThroughMountTargetsWithIam",
                        Effect=Allow,
                        Principal=AWSPrincipal(
                            Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                        ),
                        Action=[
                            AwsAction("elasticfilesystem", "ClientMount"),
                            AwsAction("elasticfilesystem", "ClientWrite"),
                        ],
                        Condition=Condition(Bool("elasticfilesystem:AccessedViaMountTarget", True)),
                    ),
                    Statement(
                        Sid="DenyInsecureTransport",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[AwsAction("elasticfilesystem", "*")],
                        Condition=Condition(Bool("aws:SecureTransport", False)),
                    ),
                ],
            )
        ),
    }
    if fs.transition_to_ia_days is not None:
        props["LifecyclePolicies"] = [
            efs.LifecyclePolicy(TransitionToIA=f"AFTER_{fs.transition_to_ia_days}_DAYS")
        ]
    if fs.kms_key_arn:
        props["KmsKeyId"] = fs.kms_key_arn
    system = efs.FileSystem("FileSystem", **RETAIN, **props)
    if not fs.kms_key_arn:
        waive(
            system,
            {
                "CKV_AWS_184": "encrypted with the AWS-managed key aws/elasticfilesystem; set "
                "kms_key_arn on the file system for a customer-managed key"
            },
        )
    system = ctx.add(system)
    subnets = ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)
    group = ctx.import_value(security.COMPONENT, security.group_output(efs_key(spec.name)))
    for i in range(spec.availability_zones):
        ctx.add(
            efs.MountTarget(
                f"MountTarget{i + 1}",
                FileSystemId=Ref(system),
                SubnetId=Select(i, Split(",", subnets)),
                SecurityGroups=[group],
            )
        )
    for ap_name, ap in spec.fs.access_points.items():
        point = ctx.add(
            efs.AccessPoint(
                logical_id(ap_name, "access-point"),
                FileSystemId=Ref(system),
                PosixUser=efs.PosixUser(Uid=str(ap.uid), Gid=str(ap.gid)),
                RootDirectory=efs.RootDirectory(
                    Path=ap.path,
                    CreationInfo=efs.CreationInfo(
                        OwnerUid=str(ap.uid), OwnerGid=str(ap.gid), Permissions=ap.permissions
                    ),
                ),
                AccessPointTags=Tags(Name=ctx.name(f"efs-{spec.name}-{ap_name}")),
            )
        )
        ctx.export(access_point_output(ap_name, "Id"), Ref(point), f"Access point {ap_name}")
        ctx.export(
            access_point_output(ap_name, "Arn"), GetAtt(point, "Arn"), f"Access point {ap_name} ARN"
        )
    ctx.export(FS_ID, Ref(system), f"File system {spec.name}")
    ctx.export(FS_ARN, GetAtt(system, "Arn"), f"File system {spec.name} ARN")


def build_bucket(spec: BucketSpec, ctx: Context) -> None:
    b = spec.bucket
    if b.kms_key_arn:
        default = s3.ServerSideEncryptionByDefault(
            SSEAlgorithm="aws:kms", KMSMasterKeyID=b.kms_key_arn
        )
    else:
        default = s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    props: dict[str, Any] = {
        "BucketEncryption": s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=default, BucketKeyEnabled=bool(b.kms_key_arn)
                )
            ]
        ),
        "PublicAccessBlockConfiguration": s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        "OwnershipControls": s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        "Tags": Tags(Name=ctx.name(f"bucket-{spec.name}")),
    }
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
                    Statement(
                        Sid="DenyInsecureTransport",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[AwsAction("s3", "*")],
                        Resource=[GetAtt(bucket, "Arn"), Sub("${Bucket.Arn}/*")],
                        Condition=Condition(Bool("aws:SecureTransport", False)),
                    )
                ],
            ),
        )
    )
    ctx.export(BUCKET_NAME, Ref(bucket), f"Bucket {spec.name}")
    ctx.export(BUCKET_ARN, GetAtt(bucket, "Arn"), f"Bucket {spec.name} ARN")
